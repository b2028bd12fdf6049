module goprof.bench/pingpong

go 1.19
