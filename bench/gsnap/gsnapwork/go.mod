module gsnapwork

go 1.19
