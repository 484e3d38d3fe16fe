//go:build !linux

package main

import (
	"fmt"
	"os"
)

// socketsClient reads with epoll, which only Linux has.
func socketsClient([]string) int {
	fmt.Fprintln(os.Stderr, "sockets-client: the sockets part's client runs on Linux only")
	return 1
}
