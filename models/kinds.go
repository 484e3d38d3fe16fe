package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// Kind is what went wrong, in terms every API can answer: each one maps kinds to its own statuses and
// error shape (server.API.Statuses), so models and handlers never pick an HTTP status themselves.
type Kind uint8

// The kinds. Internal is the zero value: an error nobody classified is a 500 whose text stays in the log.
const (
	Internal        Kind = iota
	Invalid              // the request breaks a rule (the vendor's validation status)
	Unauthenticated      // missing or wrong credentials
	Forbidden            // authenticated, but not allowed
	NotFound             // no such row
	Conflict             // clashes with stored data: unique or foreign-key violation, a row deleted meanwhile
	TooLarge             // the body is over its limit
	Throttled            // too many failed logins: retry later
	Busy                 // the store is busy or unreachable: retry later
	NotBuilt             // in the contract, not built yet
	Canceled             // the client went away; nobody reads the answer
	Unsupported          // the body's media type is not one the operation takes
	Locked               // the row's state does not allow the action now (ICTCore's 423: a transmission in process)
)

var kindNames = [...]string{"internal", "invalid", "unauthenticated", "forbidden", "not found", "conflict",
	"too large", "throttled", "busy", "not built", "canceled", "unsupported", "locked"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Error is an error with a kind and a message safe to show to the client.
type Error struct {
	Kind       Kind
	Msg        string
	RetryAfter time.Duration // Throttled and Busy: when to try again
	Err        error         // the cause, for logs
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf answers an error of the given kind whose message is shown to the client.
func Errorf(kind Kind, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Wrap answers err classified as kind, with msg for the client and err kept for the log.
func Wrap(kind Kind, err error, msg string) error {
	return &Error{Kind: kind, Msg: msg, Err: err}
}

// BusyRetryAfter is what a client is told to wait when the store is busy or unreachable.
const BusyRetryAfter = 2 * time.Second

// KindOf classifies any error: a kinded *Error says its own; otherwise the store's and the standard
// library's errors are recognised (unique and foreign-key violations are conflicts, a locked or unreachable
// store is busy), and anything else is Internal.
func KindOf(err error) Kind {
	if err == nil {
		return Internal
	}
	var ke *Error
	if errors.As(err, &ke) {
		return ke.Kind
	}
	var notBuilt interface{ NotImplemented() bool }
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &notBuilt) && notBuilt.NotImplemented():
		return NotBuilt
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.Is(err, gorm.ErrRecordNotFound):
		return NotFound
	case errors.Is(err, gorm.ErrDuplicatedKey), errors.Is(err, gorm.ErrForeignKeyViolated):
		return Conflict
	case errors.As(err, &mbe):
		return TooLarge
	}
	if k, ok := storeKind(err); ok {
		return k
	}
	return Internal
}

// Message answers the client-facing text of an error: a kinded error's message, or a generic one.
func Message(err error) string {
	var ke *Error
	if errors.As(err, &ke) {
		return ke.Msg
	}
	switch KindOf(err) {
	case NotFound:
		return "not found"
	case Conflict:
		return "the request conflicts with stored data (a duplicate, or a row changed or deleted meanwhile)"
	case TooLarge:
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Sprintf("body is larger than %d bytes", mbe.Limit)
		}
		return "body is too large"
	case Busy:
		return "the store is busy or unreachable, retry later"
	case NotBuilt:
		return "not implemented yet"
	}
	return "internal server error"
}

// RetryAfter answers how long the client should wait before retrying, for Throttled and Busy errors.
func RetryAfter(err error) time.Duration {
	var ke *Error
	if errors.As(err, &ke) && ke.RetryAfter > 0 {
		return ke.RetryAfter
	}
	switch KindOf(err) {
	case Busy, Throttled:
		return BusyRetryAfter
	}
	return 0
}

// storeKind recognises the drivers' own errors that gorm does not translate (raw SQL, COPY, connections).
func storeKind(err error) (Kind, bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505", "23503": // unique_violation, foreign_key_violation
			return Conflict, true
		case "40001", "40P01", "55P03", "53300", "53400", "57P03", "57014", "08000", "08003", "08006", "08001", "08004":
			// serialization failure, deadlock, lock not available, too many connections, configuration
			// limit, cannot connect now, statement timeout, connection exceptions
			return Busy, true
		}
		return Internal, false
	}
	var coded interface{ Code() int } // SQLite (modernc and its glebarez fork)
	if errors.As(err, &coded) {
		switch coded.Code() & 0xff { // the primary code; extended codes carry more in the high bits
		case 5, 6: // SQLITE_BUSY, SQLITE_LOCKED
			return Busy, true
		case 19: // SQLITE_CONSTRAINT
			return Conflict, true
		}
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), pgconn.Timeout(err),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.Is(err, context.DeadlineExceeded),
		strings.Contains(err.Error(), "sql: database is closed"):
		return Busy, true
	}
	return Internal, false
}
