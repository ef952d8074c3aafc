module gotalk-conformance/go-peer

go 1.22

require (
	github.com/rsms/gotalk v1.3.7
	golang.org/x/net v0.0.0-20200930145003-4acb6c075d10
)
