module goprof.example/demo-app

go 1.19
