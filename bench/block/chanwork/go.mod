module goprof.bench/chanwork

go 1.19
