package apitest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Remote is a Switchboard reached over the network (a node process of a multi-node test) at URL
// (http://host:port). Its answers are checked against the contracts as an Env's are.
type Remote struct {
	URL string
}

// Do sends req to the remote node and checks the answer against the contract that serves its path; a
// violation fails t. Chunked, DeclaredLength and RemoteAddr are not supported.
func (r Remote) Do(t testing.TB, req Request) *Response {
	t.Helper()
	var raw []byte
	if req.Body != nil {
		var err error
		if raw, err = io.ReadAll(req.Body); err != nil {
			t.Fatal(err)
		}
	}
	hr, err := http.NewRequestWithContext(t.Context(), req.Method, strings.TrimSuffix(r.URL, "/")+req.Path, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header = req.Header.Clone()
	if hr.Header == nil {
		hr.Header = http.Header{}
	}
	client := &http.Client{Timeout: time.Minute} // only against a hang
	hresp, err := client.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.Path, err)
	}
	defer hresp.Body.Close()
	body, err := io.ReadAll(hresp.Body)
	if err != nil {
		t.Fatalf("%s %s: read the answer: %v", req.Method, req.Path, err)
	}
	resp := &Response{Status: hresp.StatusCode, Header: hresp.Header, Body: body}
	// The contract's router matches the path alone, as for an Env's requests.
	lookup := httptest.NewRequest(req.Method, req.Path, bytes.NewReader(raw))
	lookup.Header = hr.Header
	if err := validateResponse(lookup, raw, resp); err != nil {
		t.Fatal(err)
	}
	return resp
}

// SendJSON is Env.SendJSON for the remote node: body nil sends none, a string is sent as it is (JSON),
// anything else is encoded as JSON; the answer is checked against the contract.
func (r Remote) SendJSON(t testing.TB, h http.Header, method, path string, body any) *Response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			rd = JSONBody(t, body)
		}
		h = h.Clone()
		if h == nil {
			h = http.Header{}
		}
		h.Set("Content-Type", "application/json")
	}
	return r.Do(t, Request{Method: method, Path: path, Body: rd, Header: h})
}
