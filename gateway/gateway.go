// Package gateway holds the delivery back ends the dialer's workers call for each attempt (spool) of an
// ICTCore transmission: a deterministic simulator (the default for every service), SMTP for e-mail and a
// Kannel-style HTTP SMS gateway, all behind one small interface so a worker never knows which one it drives.
//
// The contract between a worker and a gateway is in the answer of Send:
//
//   - a non-nil error means the attempt could not be made or failed for a reason that may pass: connection
//     refused, timeout, TLS handshake, an SMTP 4xx reply, HTTP 5xx/408/429, or ctx ended (then the error
//     wraps ctx's error). The worker may retry later; the Result is the zero value.
//   - a nil error means the attempt ended, and Result.Status says how. Delivered is a success. Failed is a
//     definite failure that a retry would not fix: the far end refused it (SMTP 5xx, HTTP 4xx other than
//     408/429), or the message cannot go through this gateway at all (no recipient, a service the gateway
//     does not carry); Reason says why and Response holds what the far end answered, if anything. NoAnswer
//     and Busy are call outcomes (voice, fax) that the campaign's retry policy decides about.
//
// Gateways are safe for concurrent use. They never put passwords or API keys in a Result or an error.
package gateway

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Service is what a message is, with ICTCore's service_flag bit values, so a provider's service_flag mask
// can be tested with flag&int(s) != 0.
type Service int

// The services, as ICTCore numbers them.
const (
	Voice Service = 1
	Fax   Service = 2
	SMS   Service = 4
	Email Service = 8
)

func (s Service) String() string {
	switch s {
	case Voice:
		return "voice"
	case Fax:
		return "fax"
	case SMS:
		return "sms"
	case Email:
		return "email"
	}
	return fmt.Sprintf("service(%d)", int(s))
}

// telephony reports whether a message of this service is a call, which can be busy or go unanswered.
func (s Service) telephony() bool { return s == Voice || s == Fax }

// Status is how an attempt ended; the strings are what the dialer stores in a spool row.
type Status string

// The statuses.
const (
	Delivered Status = "delivered"
	Failed    Status = "failed"
	NoAnswer  Status = "no_answer"
	Busy      Status = "busy"
)

// Message is one attempt's content, independent of the back end that carries it.
type Message struct {
	Service Service
	To      string // E.164-ish phone number, or an e-mail address ("Name <a@b>" allowed)
	From    string // caller id or sender address; empty: the gateway's configured one
	Subject string // e-mail subject
	Body    string // SMS text or e-mail body; fax and voice: optional text to speak
	// Attachments are e-mail attachments, a fax document or a voice recording. They are opened only when
	// sent and streamed, so a worker never holds a whole file in memory.
	Attachments []Attachment
	// Ref is the caller's id for this attempt (e.g. "spool 42"): it shows in logs and decides the
	// simulator's outcome, so give every attempt its own.
	Ref string
}

// Attachment is a file opened lazily by the gateway that sends it; the gateway closes what Open returns.
type Attachment struct {
	Name        string // file name shown to the recipient
	ContentType string // MIME type; empty: application/octet-stream
	Open        func(context.Context) (io.ReadCloser, error)
}

// Result is how an attempt ended (see the package comment for when Send answers an error instead).
type Result struct {
	Status    Status
	Reason    string        // human-readable reason when not delivered
	Response  string        // what the far end answered: SMTP reply, HTTP status line and a bounded body excerpt
	Simulated bool          // the simulator produced this result; nothing left the process
	Duration  time.Duration // how long the attempt took (simulated or measured)
}

// Gateway delivers messages through one back end.
type Gateway interface {
	// Name says which back end this is ("simulator", "smtp", "http-sms"), for logs and spool rows.
	Name() string
	// Send makes one attempt; see the package comment for the meaning of its answers.
	Send(ctx context.Context, m Message) (Result, error)
}

// maxResponse bounds Result.Response, so a chatty far end cannot bloat spool rows.
const maxResponse = 1024

// excerpt trims s to at most n bytes of valid UTF-8, marking the cut.
func excerpt(s string, n int) string {
	s = strings.ToValidUTF8(strings.TrimSpace(s), "\uFFFD")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// refuse is the Result for a message that this gateway can never carry.
func refuse(format string, args ...any) Result {
	return Result{Status: Failed, Reason: fmt.Sprintf(format, args...)}
}
