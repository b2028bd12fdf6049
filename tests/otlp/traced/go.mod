module traced

go 1.19
