module goprof.bench/work

go 1.19
