package apitest

import (
	"net/http/httptest"
	"sync"
)

// servers holds each Env's real HTTP server, started on first use.
var servers sync.Map // *Env → *httptest.Server

// URL answers the base URL (http://127.0.0.1:port) of a real HTTP server in front of the Env's handler,
// started once per Env and closed when its test ends. Tests that need a real connection (WebSocket
// upgrades, which hijack it) go through it; its answers are not checked against the contracts.
func (e *Env) URL() string {
	if s, ok := servers.Load(e); ok {
		return s.(*httptest.Server).URL
	}
	s := httptest.NewServer(e.Handler)
	if prev, loaded := servers.LoadOrStore(e, s); loaded {
		s.Close()
		return prev.(*httptest.Server).URL
	}
	e.T.Cleanup(func() {
		servers.Delete(e)
		s.CloseClientConnections()
		s.Close()
	})
	return s.URL
}
