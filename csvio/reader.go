// Package csvio provides bounded CSV reading and spreadsheet-safe CSV cells.
//
// [Reader] reads RFC 4180 records in memory that does not depend on the
// input: a field, a record or a quote that runs on for hundreds of megabytes
// costs no more than a short one. [Neutralize] and [Restore] guard exported
// cells against formula injection and undo the guard on import.
package csvio

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// Default limits, used for the zero fields of [Limits].
const (
	DefaultMaxField  = 4 << 10
	DefaultMaxRecord = 64 << 10
	DefaultMaxFields = 64
)

// bufSize is the size of the Reader's read buffer. Lines longer than it are
// handled in pieces, so it bounds memory, not the length of a line.
const bufSize = 64 << 10

// Limits bounds what a Reader holds in memory for one record. Whatever the
// input, a Reader holds no more than a 64 KiB read buffer, MaxRecord bytes of
// field values and MaxFields field offsets.
// A zero or negative field means the default.
type Limits struct {
	// MaxField is the most bytes a field's value may have,
	// after quotes are removed.
	MaxField int
	// MaxRecord is the most bytes a record may take in the input,
	// quotes and commas included, its final line break excluded.
	// A CR LF inside a quoted field counts as one byte.
	MaxRecord int
	// MaxFields is the most fields a record may have.
	MaxFields int
}

// Record is one CSV record.
type Record struct {
	Line   int64    // 1-based line where the record starts
	Fields []string // the record's fields, at least one
}

// A RowError reports a record that the Reader skipped. Reading may go on:
// the next call to Read returns the record after it.
type RowError struct {
	Line int64 // 1-based line where the record starts
	Msg  string
}

func (e *RowError) Error() string {
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// state is where the Reader is within a record.
type state uint8

const (
	stField    state = iota // at the start of a field
	stUnquoted              // in an unquoted field
	stQuoted                // in a quoted field
	stQuote                 // just after a quote in a quoted field
)

// A Reader reads records from CSV input as RFC 4180 describes it, with these
// choices, which match encoding/csv with LazyQuotes set and FieldsPerRecord -1:
//
//   - A record ends at LF or CR LF outside quotes, or at the end of the input.
//     A blank line is skipped. A CR LF inside a quoted field becomes LF; a
//     lone CR is kept; a CR just before the end of the input is dropped.
//   - A field that begins with a quote is quoted: it may hold commas and line
//     breaks, and "" in it stands for one quote.
//   - A quote in an unquoted field is an ordinary character.
//   - A quote in a quoted field that is followed by neither a quote, a comma
//     nor the end of the line is an ordinary character, and the field goes on
//     until a quote that is: "a"b",c is the fields a"b and c.
//
// A UTF-8 byte-order mark at the start of the input is skipped.
//
// Unlike encoding/csv, a Reader never holds more of a record than its
// [Limits] allow. It reports a record that breaks them, or whose quote is
// never closed, as a [*RowError]; see [Reader.Read].
type Reader struct {
	br  *bufio.Reader
	lim Limits
	err error // returned by every later Read: io.EOF or the input's error

	begun     bool  // whether the byte-order mark has been looked for
	pendingCR bool  // a CR ended the last piece; it may be half of a CR LF
	line      int64 // line breaks read so far

	// The record being read.
	st        state
	start     int64  // line where it starts
	quoteLine int64  // line where the last quoted field opened
	n         int    // bytes of it read so far, while msg is ""
	buf       []byte // values of its fields, one after another
	ends      []int  // where each completed field ends in buf
	msg       string // why it is rejected; once set, the rest is skipped
	fields    []string
}

// NewReader returns a Reader that reads from r within the limits lim.
func NewReader(r io.Reader, lim Limits) *Reader {
	return newReader(r, lim, bufSize)
}

func newReader(r io.Reader, lim Limits, size int) *Reader {
	if lim.MaxField <= 0 {
		lim.MaxField = DefaultMaxField
	}
	if lim.MaxRecord <= 0 {
		lim.MaxRecord = DefaultMaxRecord
	}
	if lim.MaxFields <= 0 {
		lim.MaxFields = DefaultMaxFields
	}
	return &Reader{br: bufio.NewReaderSize(r, size), lim: lim}
}

var (
	bom = []byte{0xEF, 0xBB, 0xBF}
	lf  = []byte{'\n'}
	cr  = []byte{'\r'}
	quo = []byte{'"'}
)

// Read returns the next record. At the end of the input it returns io.EOF.
//
// The Fields slice is reused by the next call to Read; the strings in it
// stay valid.
//
// A record that has a field longer than MaxField, is longer than MaxRecord or
// has more than MaxFields fields is skipped to its end, without being held in
// memory, and reported as a *RowError; the next call goes on with the next
// record. So is a quoted field that is never closed, except that it runs to
// the end of the input: the *RowError says "unterminated quote at line N",
// where N is the line of the opening quote, and the next call returns io.EOF.
// That error is reported in place of any limit the record broke.
//
// Any other error comes from the underlying reader, such as a
// *http.MaxBytesError or a broken connection. It is returned as is, by this
// call and every later one, and the record being read is lost.
func (r *Reader) Read() (Record, error) {
	if r.err != nil {
		return Record{}, r.err
	}
	if !r.begun {
		r.begun = true
		b, err := r.br.Peek(len(bom))
		if bytes.Equal(b, bom) {
			r.br.Discard(len(bom))
		} else if err != nil && err != io.EOF {
			r.err = err
			return Record{}, err
		}
	}
	r.st = stField
	r.start = r.line + 1
	r.n = 0
	r.buf = r.buf[:0]
	r.ends = r.ends[:0]
	r.msg = ""
	for {
		b, err := r.br.ReadSlice('\n')
		switch err {
		case nil:
			if r.piece(b[:len(b)-1], true) {
				return r.record()
			}
		case bufio.ErrBufferFull:
			r.piece(b, false)
		case io.EOF:
			r.piece(b, false)
			r.err = io.EOF
			return r.atEOF()
		default:
			r.err = err
			return Record{}, err
		}
	}
}

// piece feeds the state machine a piece of a line, and the line break that
// ends it if nl is set. It reports whether that ended the record.
func (r *Reader) piece(b []byte, nl bool) bool {
	if len(b) == 0 && !nl {
		return false // the end of the input: a pending CR is dropped
	}
	if r.pendingCR {
		r.pendingCR = false
		if nl && len(b) == 0 {
			return r.newline() // the buffer split a CR LF
		}
		r.feed(cr)
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
		if !nl {
			r.pendingCR = true
		}
	}
	r.feed(b)
	return nl && r.newline()
}

// feed runs the state machine over b, which holds no line break.
func (r *Reader) feed(b []byte) {
	for len(b) > 0 {
		switch r.st {
		case stField:
			switch b[0] {
			case '"':
				r.quoteLine = r.line + 1
				r.st = stQuoted
				r.skip(1)
				b = b[1:]
			case ',':
				r.skip(1)
				r.endField(true)
				b = b[1:]
			default:
				r.st = stUnquoted
			}
		case stUnquoted:
			i := bytes.IndexByte(b, ',')
			if i < 0 {
				r.value(b)
				return
			}
			r.value(b[:i])
			r.skip(1)
			r.endField(true)
			r.st = stField
			b = b[i+1:]
		case stQuoted:
			i := bytes.IndexByte(b, '"')
			if i < 0 {
				r.value(b)
				return
			}
			r.value(b[:i])
			r.st = stQuote // the quote is counted once we know what it is
			b = b[i+1:]
		case stQuote:
			switch b[0] {
			case '"':
				r.skip(1)
				r.value(quo)
				r.st = stQuoted
				b = b[1:]
			case ',':
				r.skip(2)
				r.endField(true)
				r.st = stField
				b = b[1:]
			default:
				r.value(quo) // a lazy quote: b[0] is read as usual
				r.st = stQuoted
			}
		}
	}
}

// newline feeds the state machine a line break and reports whether it ended
// the record.
func (r *Reader) newline() bool {
	r.line++
	switch r.st {
	case stField:
		if r.n == 0 && len(r.ends) == 0 {
			r.start = r.line + 1 // a blank line
			return false
		}
	case stQuoted:
		r.value(lf)
		return false
	case stQuote:
		r.skip(1)
	}
	r.endField(false)
	return true
}

// atEOF ends the record at the end of the input.
func (r *Reader) atEOF() (Record, error) {
	switch r.st {
	case stField:
		if r.n == 0 && len(r.ends) == 0 {
			return Record{}, io.EOF
		}
	case stQuoted:
		r.msg = fmt.Sprintf("unterminated quote at line %d", r.quoteLine)
	case stQuote:
		r.skip(1)
	}
	r.endField(false)
	return r.record()
}

// value appends p to the value of the current field, or rejects the record
// at whichever limit p crosses first.
func (r *Reader) value(p []byte) {
	if r.msg != "" {
		return
	}
	fieldRoom := r.lim.MaxField - (len(r.buf) - r.fieldStart())
	recordRoom := r.lim.MaxRecord - r.n
	switch {
	case len(p) > fieldRoom && fieldRoom <= recordRoom:
		r.reject(fmt.Sprintf("field %d is longer than %d bytes", len(r.ends)+1, r.lim.MaxField))
	case len(p) > recordRoom:
		r.reject(fmt.Sprintf("record is longer than %d bytes", r.lim.MaxRecord))
	default:
		r.n += len(p)
		r.buf = append(r.buf, p...)
	}
}

// skip counts k bytes of quotes and commas against the record's limit.
func (r *Reader) skip(k int) {
	if r.msg != "" {
		return
	}
	r.n += k
	if r.n > r.lim.MaxRecord {
		r.reject(fmt.Sprintf("record is longer than %d bytes", r.lim.MaxRecord))
	}
}

// endField ends the current field; more says a comma follows it.
func (r *Reader) endField(more bool) {
	if r.msg != "" {
		return
	}
	r.ends = append(r.ends, len(r.buf))
	if more && len(r.ends) >= r.lim.MaxFields {
		r.reject(fmt.Sprintf("record has more than %d fields", r.lim.MaxFields))
	}
}

func (r *Reader) fieldStart() int {
	if len(r.ends) == 0 {
		return 0
	}
	return r.ends[len(r.ends)-1]
}

// reject marks the record as rejected; from now on its bytes are only
// scanned for quotes and line breaks, so that its end is found.
func (r *Reader) reject(msg string) {
	r.msg = msg
	r.n = max(r.n, 1) // so that it is not taken for a blank line

}

// record returns the record just read, or the reason it was rejected.
func (r *Reader) record() (Record, error) {
	if r.msg != "" {
		return Record{}, &RowError{Line: r.start, Msg: r.msg}
	}
	s := string(r.buf) // one allocation for all the fields
	r.fields = r.fields[:0]
	i := 0
	for _, j := range r.ends {
		r.fields = append(r.fields, s[i:j])
		i = j
	}
	return Record{Line: r.start, Fields: r.fields}, nil
}
