module goprof.test/gooffsets

go 1.19
