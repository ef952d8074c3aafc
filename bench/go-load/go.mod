module gotalk-bench/go-load

go 1.22

require github.com/rsms/gotalk v1.3.7

require golang.org/x/net v0.0.0-20200930145003-4acb6c075d10 // indirect
