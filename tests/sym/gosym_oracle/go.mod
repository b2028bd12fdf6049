module example.com/gosym_oracle

go 1.19
