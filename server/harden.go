package server

import (
	"errors"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// BodyTimeouts bound how long a request body may take to arrive, so a client that sends a byte a second
// cannot hold a connection and a handler open. Zero fields take the defaults below.
type BodyTimeouts struct {
	// Body: a JSON or form body must be complete this long after the request's headers arrived.
	Body time.Duration
	// An upload must arrive at UploadMinRate bytes per second on average, after a head start of
	// UploadGrace, and never take longer than UploadMax: its deadline is
	// start + UploadGrace + bytesSoFar/UploadMinRate, at most start + UploadMax.
	UploadGrace   time.Duration
	UploadMinRate int64
	UploadMax     time.Duration
}

// Body-time defaults: 64 KiB/s is a poor mobile uplink; at that rate a 100 MiB CSV takes 27 minutes.
// A maximum-size upload (512 MiB) needs about 300 KiB/s to finish within the 30-minute cap.
const (
	DefaultBodyTimeout   = 10 * time.Second
	DefaultUploadGrace   = 10 * time.Second
	DefaultUploadMinRate = 64 << 10
	DefaultUploadMax     = 30 * time.Minute
)

func (t BodyTimeouts) withDefaults() BodyTimeouts {
	if t.Body <= 0 {
		t.Body = DefaultBodyTimeout
	}
	if t.UploadGrace <= 0 {
		t.UploadGrace = DefaultUploadGrace
	}
	if t.UploadMinRate <= 0 {
		t.UploadMinRate = DefaultUploadMinRate
	}
	if t.UploadMax <= 0 {
		t.UploadMax = DefaultUploadMax
	}
	return t
}

// ctxBody is where harden leaves the request's *trackedBody (absent when the request has no body).
const ctxBody = "sb.body"

// Headers every answer carries.
const (
	headerNoSniff      = "nosniff"
	headerCacheNoStore = "no-store"
)

// harden is the server-wide middleware: security headers on every answer, a read deadline on every
// request body (the contract middleware switches uploads to a minimum rate, see limitBodyTime; routes
// outside the contracts never read theirs, but net/http may), and Connection: close on an error
// answered before the body was read to its end.
//
// Without that header net/http reads up to 256 KiB of an unread body of unknown or small length
// before it sends the answer, to keep the connection: a stranger's refused upload would still be
// received in part, and a slow one would hold the refusal back. With it the answer goes out first.
// (net/http then still reads up to 256 KiB while closing, after the answer, under the body's deadline.)
func harden(t BodyTimeouts) echo.MiddlewareFunc {
	t = t.withDefaults()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set(echo.HeaderXContentTypeOptions, headerNoSniff)
			// Vendor answers carry tokens and personal data: no cache may keep them. The docs routes,
			// which are static, relax this (see docs.go).
			h.Set(echo.HeaderCacheControl, headerCacheNoStore)
			if b := trackBody(c, false); b != nil {
				b.arm(false, t)
				res := c.Response()
				res.Before(func() {
					if res.Status >= http.StatusBadRequest && !b.eof.Load() {
						h.Set(echo.HeaderConnection, "close")
					}
				})
			}
			return next(c)
		}
	}
}

// limitBodyTime puts the request body under its read deadline: BodyTimeouts.Body for a JSON or form
// body, the minimum-rate deadline for an upload. The deadline is set on the connection through
// http.ResponseController, so a read blocked on a silent client fails when it passes; where the writer
// has no connection (httptest.ResponseRecorder) the body checks the deadline before each read instead.
//
// A body that misses its deadline fails its read with an *echo.HTTPError 400, which the vendor's error
// mapping answers as its validation error (ICTCore: 412), with Connection: close since the body is unread.
func limitBodyTime(c echo.Context, upload bool, t BodyTimeouts) {
	b, _ := c.Get(ctxBody).(*trackedBody)
	if b == nil {
		// harden is not installed (a bare echo in a test): wrap in place, since the caller holds the request.
		if b = trackBody(c, true); b == nil {
			return
		}
	}
	b.arm(upload, t.withDefaults())
}

// errBodyTimeout is the message a client gets for a body that missed its deadline.
const errBodyTimeout = "request body was not received in time"

// trackedBody wraps a request body: it knows whether the body was read to its end and enforces the
// read deadline. Reads happen on the handler's goroutine; eof and timedOut are atomic because the
// answer's hooks and the request log read them too.
type trackedBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	native   bool // the deadline is on the connection; false: checked here before each read
	start    time.Time
	upload   bool
	t        BodyTimeouts
	deadline time.Time // zero once the body ended
	n        int64
	eof      atomic.Bool
	timedOut atomic.Bool
}

// trackBody wraps the request's body once and answers the wrapper (nil for a request without a body).
// Unless inPlace, the wrapper goes on a shallow copy of the request, so net/http still sees its own body
// type and keeps its own bookkeeping about what is left unread.
func trackBody(c echo.Context, inPlace bool) *trackedBody {
	if b, ok := c.Get(ctxBody).(*trackedBody); ok {
		return b
	}
	req := c.Request()
	if req.Body == nil || req.Body == http.NoBody {
		return nil
	}
	b := &trackedBody{ReadCloser: req.Body, rc: http.NewResponseController(c.Response()), native: true, start: time.Now()}
	if inPlace {
		req.Body = b
	} else {
		r := *req
		r.Body = b
		c.SetRequest(&r)
	}
	c.Set(ctxBody, b)
	return b
}

// arm sets the regime (upload or not) and the deadline that follows from it.
func (b *trackedBody) arm(upload bool, t BodyTimeouts) {
	b.upload, b.t = upload, t
	b.setDeadline(b.limit())
}

// limit answers the deadline for what has arrived so far.
func (b *trackedBody) limit() time.Time {
	if !b.upload {
		return b.start.Add(b.t.Body)
	}
	// Cap before multiplying so a huge count cannot overflow a Duration.
	if b.n/b.t.UploadMinRate >= int64(b.t.UploadMax/time.Second) {
		return b.start.Add(b.t.UploadMax)
	}
	d := b.t.UploadGrace + time.Duration(b.n)*time.Second/time.Duration(b.t.UploadMinRate)
	return b.start.Add(min(d, b.t.UploadMax))
}

func (b *trackedBody) setDeadline(d time.Time) {
	if b.eof.Load() || d.Equal(b.deadline) {
		return
	}
	b.deadline = d
	if b.native {
		if err := b.rc.SetReadDeadline(d); errors.Is(err, http.ErrNotSupported) {
			b.native = false
		}
	}
}

func (b *trackedBody) Read(p []byte) (int, error) {
	if !b.native && !b.deadline.IsZero() && time.Now().After(b.deadline) {
		return 0, b.timeout(os.ErrDeadlineExceeded)
	}
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	switch {
	case err == io.EOF:
		b.eof.Store(true)
		// At the body's end net/http starts a background read to notice a client that leaves; under a
		// deadline that read would fail and cancel the request's context while the handler still works
		// (a long import, a streamed export), so the deadline ends with the body.
		b.deadline = time.Time{}
		if b.native {
			_ = b.rc.SetReadDeadline(time.Time{})
		}
	case err != nil && errors.Is(err, os.ErrDeadlineExceeded):
		return n, b.timeout(err)
	case n > 0 && b.upload:
		b.setDeadline(b.limit())
	}
	return n, err
}

// timeout records a missed deadline and answers the error the vendor mappers turn into a validation error.
func (b *trackedBody) timeout(err error) error {
	b.timedOut.Store(true)
	return echo.NewHTTPError(http.StatusBadRequest, errBodyTimeout).WithInternal(err)
}

// bodyTimedOut: the request's body missed its deadline (the server gave up, not the client).
func bodyTimedOut(c echo.Context) bool {
	b, _ := c.Get(ctxBody).(*trackedBody)
	return b != nil && b.timedOut.Load()
}
