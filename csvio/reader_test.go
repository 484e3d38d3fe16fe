package csvio

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// result is what one call to Read gave: a record, or a row error.
type result struct {
	Line   int64
	Fields []string // nil for a row error
	Err    string   // the RowError's Msg
}

func (r result) String() string {
	if r.Err != "" {
		return fmt.Sprintf("line %d: error %q", r.Line, r.Err)
	}
	return fmt.Sprintf("line %d: %q", r.Line, r.Fields)
}

// readAll reads r to the end. It fails t on an error that is not a row
// error, and checks that io.EOF is sticky.
func readAll(t testing.TB, r *Reader) []result {
	t.Helper()
	var out []result
	for {
		rec, err := r.Read()
		if err == io.EOF {
			if _, err := r.Read(); err != io.EOF {
				t.Fatalf("Read after io.EOF = %v, want io.EOF", err)
			}
			return out
		}
		var re *RowError
		switch {
		case errors.As(err, &re):
			if rec.Fields != nil {
				t.Errorf("Read returned fields %q with %v", rec.Fields, err)
			}
			out = append(out, result{Line: re.Line, Err: re.Msg})
		case err != nil:
			t.Fatalf("Read: unexpected error %v", err)
		default:
			out = append(out, result{Line: rec.Line, Fields: append([]string(nil), rec.Fields...)})
		}
	}
}

func ok(line int64, fields ...string) result { return result{Line: line, Fields: fields} }
func bad(line int64, msg string) result      { return result{Line: line, Err: msg} }

var readTests = []struct {
	name string
	in   string
	lim  Limits
	want []result
}{
	// Syntax.
	{name: "empty", in: ""},
	{name: "simple", in: "a,b,c\n", want: []result{ok(1, "a", "b", "c")}},
	{name: "no final newline", in: "a,b\nc,d", want: []result{ok(1, "a", "b"), ok(2, "c", "d")}},
	{name: "CRLF", in: "a,b\r\nc,d\r\n", want: []result{ok(1, "a", "b"), ok(2, "c", "d")}},
	{name: "lone CR is data", in: "a\rb,c\r\n", want: []result{ok(1, "a\rb", "c")}},
	{name: "CR before CRLF", in: "a\r\r\n", want: []result{ok(1, "a\r")}},
	{name: "CR at end of input dropped", in: "a\nb\r", want: []result{ok(1, "a"), ok(2, "b")}},
	{name: "only CR", in: "\r"},
	{name: "empty fields", in: ",\n,,\n", want: []result{ok(1, "", ""), ok(2, "", "", "")}},
	{name: "spaces kept", in: " a , b \n", want: []result{ok(1, " a ", " b ")}},
	{name: "quoted", in: `"a","b",c` + "\n", want: []result{ok(1, "a", "b", "c")}},
	{name: "quoted empty", in: `""` + "\n" + `"",""`, want: []result{ok(1, ""), ok(2, "", "")}},
	{name: "quoted comma", in: `"a,b",c`, want: []result{ok(1, "a,b", "c")}},
	{name: "doubled quotes", in: `"a""b","""",""""""` + "\n", want: []result{ok(1, `a"b`, `"`, `""`)}},
	{name: "quoted LF", in: "\"a\nb\",c\nd\n", want: []result{ok(1, "a\nb", "c"), ok(3, "d")}},
	{name: "quoted CRLF becomes LF", in: "\"a\r\nb\"\r\nd\r\n", want: []result{ok(1, "a\nb"), ok(3, "d")}},
	{name: "quoted lone CR kept", in: "\"a\rb\"\n", want: []result{ok(1, "a\rb")}},
	{name: "quoted blank lines", in: "\"\n\n\"\nx", want: []result{ok(1, "\n\n"), ok(4, "x")}},
	{name: "quoted at end of input", in: `a,"b"`, want: []result{ok(1, "a", "b")}},
	{name: "UTF-8", in: "Zoë,\"日本\"\n", want: []result{ok(1, "Zoë", "日本")}},
	{name: "ICTCore sample", in: `"923330000000","Valid","Contact","email@domain.com","street address","custome 1","custome 2","custome 3","any comments will be here"`,
		want: []result{ok(1, "923330000000", "Valid", "Contact", "email@domain.com", "street address", "custome 1", "custome 2", "custome 3", "any comments will be here")}},

	// Blank lines and the byte-order mark.
	{name: "blank lines", in: "\n\na\n\r\n\nb\n\n", want: []result{ok(3, "a"), ok(6, "b")}},
	{name: "BOM", in: "\xEF\xBB\xBFa,b\n", want: []result{ok(1, "a", "b")}},
	{name: "BOM quoted", in: "\xEF\xBB\xBF\"a\",b\n", want: []result{ok(1, "a", "b")}},
	{name: "BOM only", in: "\xEF\xBB\xBF"},
	{name: "BOM twice", in: "\xEF\xBB\xBF\xEF\xBB\xBFa", want: []result{ok(1, "\uFEFFa")}},
	{name: "BOM not at start", in: "a\n\xEF\xBB\xBFb", want: []result{ok(1, "a"), ok(2, "\uFEFFb")}},
	{name: "partial BOM", in: "\xEF\xBBa", want: []result{ok(1, "\xEF\xBBa")}},

	// Lazy quotes, as encoding/csv with LazyQuotes reads them.
	{name: "quote in unquoted field", in: `a"b,c"` + "\n", want: []result{ok(1, `a"b`, `c"`)}},
	{name: "doubled quote in unquoted field", in: `a""b`, want: []result{ok(1, `a""b`)}},
	{name: "space before quote", in: ` "a",b`, want: []result{ok(1, ` "a"`, "b")}},
	{name: "text after closing quote", in: `"a"b",c` + "\n", want: []result{ok(1, `a"b`, "c")}},
	{name: "space after closing quote", in: `"a" b"` + "\n" + "x", want: []result{ok(1, `a" b`), ok(2, "x")}},
	{name: "tripled quote closes", in: `"a"""` + "\n", want: []result{ok(1, `a"`)}},

	// Row errors: the record is reported and the next one read.
	{name: "field too long", in: "ok\nabcde,x\nnext\n", lim: Limits{MaxField: 4},
		want: []result{ok(1, "ok"), bad(2, "field 1 is longer than 4 bytes"), ok(3, "next")}},
	{name: "third field too long", in: "a,b,abcde,c\nnext", lim: Limits{MaxField: 4},
		want: []result{bad(1, "field 3 is longer than 4 bytes"), ok(2, "next")}},
	{name: "field at limit", in: `abcd,"ab""c"` + "\n", lim: Limits{MaxField: 4},
		want: []result{ok(1, "abcd", `ab"c`)}},
	{name: "quoted field too long", in: "\"ab\"\"cd\",x\nnext\n", lim: Limits{MaxField: 4},
		want: []result{bad(1, "field 1 is longer than 4 bytes"), ok(2, "next")}},
	{name: "too long field skipped over quoted lines", in: "abcde,\"x\n,\ny\",z\n\nnext\n", lim: Limits{MaxField: 4},
		want: []result{bad(1, "field 1 is longer than 4 bytes"), ok(5, "next")}},
	{name: "too long at end of input", in: "a\nabcde", lim: Limits{MaxField: 4},
		want: []result{ok(1, "a"), bad(2, "field 1 is longer than 4 bytes")}},
	{name: "record too long", in: "a,b,c,de\na,b,c,d,e\nnext", lim: Limits{MaxRecord: 8},
		want: []result{ok(1, "a", "b", "c", "de"), bad(2, "record is longer than 8 bytes"), ok(3, "next")}},
	{name: "record counts quotes", in: `"abcdef"` + "\n" + `"abcdefg"` + "\nnext", lim: Limits{MaxRecord: 8},
		want: []result{ok(1, "abcdef"), bad(2, "record is longer than 8 bytes"), ok(3, "next")}},
	{name: "record counts closing quote and comma", in: `"ab",c` + "\n" + `"ab",cd` + "\nnext", lim: Limits{MaxRecord: 6},
		want: []result{ok(1, "ab", "c"), bad(2, "record is longer than 6 bytes"), ok(3, "next")}},
	{name: "record counts doubled quotes", in: `"a""b"` + "\n" + `"a""bc"`, lim: Limits{MaxRecord: 6},
		want: []result{ok(1, `a"b`), bad(2, "record is longer than 6 bytes")}},
	{name: "record counts quote at end of input", in: `"abcde"` + "\n" + `"abcdef"`, lim: Limits{MaxRecord: 7},
		want: []result{ok(1, "abcde"), bad(2, "record is longer than 7 bytes")}},
	{name: "record ends with comma", in: "abcdefg,\nnext", lim: Limits{MaxRecord: 7},
		want: []result{bad(1, "record is longer than 7 bytes"), ok(2, "next")}},
	{name: "record excludes CRLF", in: "abcdefgh\r\n", lim: Limits{MaxRecord: 8},
		want: []result{ok(1, "abcdefgh")}},
	{name: "record counts quoted CRLF once", in: "\"ab\r\ncd\"\r\n\"ab\r\ncde\"", lim: Limits{MaxRecord: 7},
		want: []result{ok(1, "ab\ncd"), bad(3, "record is longer than 7 bytes")}},
	{name: "field limit first", in: "abcde", lim: Limits{MaxField: 4, MaxRecord: 4},
		want: []result{bad(1, "field 1 is longer than 4 bytes")}},
	{name: "record limit first", in: "ab,abcde", lim: Limits{MaxField: 4, MaxRecord: 6},
		want: []result{bad(1, "record is longer than 6 bytes")}},
	{name: "too many fields", in: "a,b,c\na,b,c,d\n\"x,y\",z\n", lim: Limits{MaxFields: 3},
		want: []result{ok(1, "a", "b", "c"), bad(2, "record has more than 3 fields"), ok(3, "x,y", "z")}},
	{name: "too many fields, last empty", in: "a,b,c,\nnext", lim: Limits{MaxFields: 3},
		want: []result{bad(1, "record has more than 3 fields"), ok(2, "next")}},
	{name: "default field limit", in: strings.Repeat("x", DefaultMaxField) + "," + strings.Repeat("y", DefaultMaxField+1) + "\nnext",
		want: []result{bad(1, "field 2 is longer than 4096 bytes"), ok(2, "next")}},
	{name: "default fields limit", in: strings.Repeat(",", DefaultMaxFields-1) + "\n" + strings.Repeat(",", DefaultMaxFields) + "\nnext",
		want: []result{ok(1, make([]string, DefaultMaxFields)...), bad(2, "record has more than 64 fields"), ok(3, "next")}},
	{name: "default record limit", in: strings.Repeat(strings.Repeat("x", 4000)+",", 17) + "\nnext",
		want: []result{bad(1, "record is longer than 65536 bytes"), ok(2, "next")}},

	// Unterminated quotes run to the end of the input.
	{name: "unterminated quote", in: "a\nb,\"c\nd\ne\n",
		want: []result{ok(1, "a"), bad(2, "unterminated quote at line 2")}},
	{name: "unterminated quote in later line", in: "a\n\"x\ny\",\"z\nw\n",
		want: []result{ok(1, "a"), bad(2, "unterminated quote at line 3")}},
	{name: "unterminated lazy quote", in: "\"a\"b\nc,d\n",
		want: []result{bad(1, "unterminated quote at line 1")}},
	{name: "only a quote", in: `"`,
		want: []result{bad(1, "unterminated quote at line 1")}},
	{name: "unterminated quote beats field limit", in: "x\n\"abcdefgh\nijk\n", lim: Limits{MaxField: 4},
		want: []result{ok(1, "x"), bad(2, "unterminated quote at line 2")}},
	{name: "unterminated quote beats record limit", in: "abcdefghi,\"a", lim: Limits{MaxRecord: 4},
		want: []result{bad(1, "unterminated quote at line 1")}},
}

// readers wraps input in readers that hand it over in different pieces.
var readers = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"whole", func(r io.Reader) io.Reader { return r }},
	{"one byte", iotest.OneByteReader},
	{"half", iotest.HalfReader},
	{"data with EOF", iotest.DataErrReader},
}

func TestRead(t *testing.T) {
	// Small buffers split lines, and CR LF pairs, at every place.
	sizes := []int{16, 17, 18, 19, 23, bufSize}
	for _, tt := range readTests {
		for _, rd := range readers {
			for _, size := range sizes {
				r := newReader(rd.wrap(strings.NewReader(tt.in)), tt.lim, size)
				got := readAll(t, r)
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("%s (%s reader, buffer %d):\ninput %.100q\ngot  %.300v\nwant %.300v", tt.name, rd.name, size, tt.in, got, tt.want)
				}
			}
		}
	}
}

func TestReadReusesFields(t *testing.T) {
	r := NewReader(strings.NewReader("a,b\nc,d\n"), Limits{})
	first, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	a := first.Fields[0]
	second, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if &first.Fields[0] != &second.Fields[0] {
		t.Error("Fields slice not reused")
	}
	if a != "a" || second.Fields[0] != "c" {
		t.Errorf("fields %q then %q, want a then c", a, second.Fields[0])
	}
}

// failReader returns data, then err.
type failReader struct {
	data string
	err  error
}

func (r *failReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReadInputError(t *testing.T) {
	errBroken := errors.New("connection reset")
	tests := []struct {
		name   string
		in     io.Reader
		before []result // records read before the error
		check  func(error) bool
	}{
		{"at start", &failReader{err: errBroken}, nil,
			func(err error) bool { return err == errBroken }},
		{"after BOM", &failReader{data: "\xEF\xBB\xBF", err: errBroken}, nil,
			func(err error) bool { return err == errBroken }},
		{"mid record", &failReader{data: "a,b\nc,", err: errBroken}, []result{ok(1, "a", "b")},
			func(err error) bool { return err == errBroken }},
		{"in quoted field", &failReader{data: "a\n\"b", err: errBroken}, []result{ok(1, "a")},
			func(err error) bool { return err == errBroken }},
		{"unexpected EOF", &failReader{data: "a\nb", err: io.ErrUnexpectedEOF}, []result{ok(1, "a")},
			func(err error) bool { return err == io.ErrUnexpectedEOF }},
		{"body too large", http.MaxBytesReader(nil, io.NopCloser(strings.NewReader("a,b\nc,d\ne,f\n")), 6), []result{ok(1, "a", "b")},
			func(err error) bool {
				var mbe *http.MaxBytesError
				return errors.As(err, &mbe) && mbe.Limit == 6
			}},
	}
	for _, tt := range tests {
		r := newReader(tt.in, Limits{}, 16)
		var got []result
		var err error
		for {
			var rec Record
			rec, err = r.Read()
			if err != nil {
				break
			}
			got = append(got, ok(rec.Line, rec.Fields...))
		}
		if !reflect.DeepEqual(got, tt.before) {
			t.Errorf("%s: records %v, want %v", tt.name, got, tt.before)
		}
		if !tt.check(err) {
			t.Errorf("%s: error %#v is not the input's", tt.name, err)
		}
		if _, again := r.Read(); again != err {
			t.Errorf("%s: next Read = %v, want %v again", tt.name, again, err)
		}
	}
}

func TestRowError(t *testing.T) {
	var err error = &RowError{Line: 7, Msg: "unterminated quote at line 8"}
	if got, want := err.Error(), "line 7: unterminated quote at line 8"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// stream generates head, then n bytes of pattern repeated, then tail,
// without holding more than a block of them.
type stream struct {
	head, tail string
	block      []byte // pattern repeated to about 64 KiB
	off        int    // of the next pattern byte in block
	n          int64  // pattern bytes left
	read       int64  // bytes handed out
}

func newStream(head, pattern, tail string, n int64) *stream {
	block := bytes.Repeat([]byte(pattern), 64<<10/len(pattern))
	return &stream{head: head, tail: tail, block: block, n: n}
}

func (s *stream) Read(p []byte) (int, error) {
	var n int
	switch {
	case s.head != "":
		n = copy(p, s.head)
		s.head = s.head[n:]
	case s.n > 0:
		b := s.block[s.off:]
		if int64(len(b)) > s.n {
			b = b[:s.n]
		}
		n = copy(p, b)
		s.off = (s.off + n) % len(s.block)
		s.n -= int64(n)
	case s.tail != "":
		n = copy(p, s.tail)
		s.tail = s.tail[n:]
	default:
		return 0, io.EOF
	}
	s.read += int64(n)
	return n, nil
}

// TestReadMemory checks that memory does not grow with the input: each case
// is 64 MB in one record (16 times the allowance, so a reader that buffers
// fails), and reading it may allocate only a few MB in all (encoding/csv
// allocates more than the record's size).
func TestReadMemory(t *testing.T) {
	const size = 64 << 20
	const maxAlloc = 4 << 20
	tests := []struct {
		name                string
		head, pattern, tail string
		lim                 Limits
		want                []result
	}{
		{"unterminated quote", `"`, "a", "", Limits{},
			[]result{bad(1, "unterminated quote at line 1")}},
		{"unterminated quote over lines", "x\n\"", "aaaaaaa,\r\n", "", Limits{},
			[]result{ok(1, "x"), bad(2, "unterminated quote at line 2")}},
		{"long unquoted line", "", "a", "\nnext\n", Limits{MaxField: 1 << 30},
			[]result{bad(1, "record is longer than 65536 bytes"), ok(2, "next")}},
		{"long unquoted field", "", "a", "\nnext\n", Limits{},
			[]result{bad(1, "field 1 is longer than 4096 bytes"), ok(2, "next")}},
		{"many fields", "", "a,", "\nnext\n", Limits{},
			[]result{bad(1, "record has more than 64 fields"), ok(2, "next")}},
		{"long quoted field over lines", `x,"`, "aaaaaaaaa\n", "\",y\nnext\n", Limits{},
			[]result{bad(1, "field 2 is longer than 4096 bytes"), ok(size/10+2, "next")}},
	}
	for _, tt := range tests {
		in := newStream(tt.head, tt.pattern, tt.tail, size)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		got := readAll(t, NewReader(in, tt.lim))
		runtime.ReadMemStats(&after)

		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
		if want := int64(len(tt.head) + size + len(tt.tail)); in.read != want {
			t.Errorf("%s: read %d bytes of %d", tt.name, in.read, want)
		}
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s: allocated %d bytes reading %d", tt.name, alloc, in.read)
		if alloc > maxAlloc {
			t.Errorf("%s: allocated %d bytes reading %d, want at most %d", tt.name, alloc, in.read, maxAlloc)
		}
	}
}

// FuzzRead checks Reader against encoding/csv with LazyQuotes, which it
// must match record for record, line numbers included, except that it
// rejects records that break its limits and a quote that is never closed,
// which encoding/csv ends at the end of the input. It also checks that the
// way the input is split into reads and buffers makes no difference.
func FuzzRead(f *testing.F) {
	for _, tt := range readTests {
		f.Add([]byte(tt.in), uint8(tt.lim.MaxField), uint8(tt.lim.MaxRecord), uint8(tt.lim.MaxFields))
	}
	f.Add([]byte("a,b\n\"c\"\"d\",\"e\nf\"\r\ng"), uint8(3), uint8(9), uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, maxField, maxRecord, maxFields uint8) {
		lim := Limits{MaxField: int(maxField), MaxRecord: int(maxRecord), MaxFields: int(maxFields)}
		got := readAll(t, NewReader(bytes.NewReader(in), lim))
		for _, size := range []int{16, 17} {
			small := readAll(t, newReader(iotest.OneByteReader(bytes.NewReader(in)), lim, size))
			if !reflect.DeepEqual(small, got) {
				t.Fatalf("buffer %d:\n%v\nwant as with buffer %d:\n%v", size, small, bufSize, got)
			}
		}

		checkStdlib(t, in, lim, got)
	})
}

// TestReadSplits puts each tricky sequence at every offset of a 16-byte
// buffer, so that the buffer splits it in every way, and checks the result
// against encoding/csv.
func TestReadSplits(t *testing.T) {
	seqs := []string{
		"\r", "\r\n", "\r\r\n", "\n\n", "\n\r\n",
		`""`, `","`, `"\r\n"`, `"\r"`, `"x`, `x"`, `"""`, `"",`, "\"\r\n",
	}
	for _, seq := range seqs {
		for k := range 40 {
			for _, tail := range []string{"", "\n", ",y\nz", "\"\nz"} {
				in := []byte(strings.Repeat("x", k) + seq + tail)
				got := readAll(t, newReader(bytes.NewReader(in), Limits{}, 16))
				checkStdlib(t, in, Limits{}, got)
				for _, lim := range []Limits{{MaxField: 20}, {MaxRecord: 30}, {MaxFields: 2}} {
					want := readAll(t, NewReader(bytes.NewReader(in), lim))
					got := readAll(t, newReader(bytes.NewReader(in), lim, 16))
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("%q with %+v: buffer 16 gives\n%v\nwant as with buffer %d:\n%v", in, lim, got, bufSize, want)
					}
				}
			}
		}
	}
}

// checkStdlib checks that got, which a Reader with limits lim read from in,
// has the records encoding/csv with LazyQuotes reads from in, line numbers
// included; that records it rejected do break the limits or have a quote
// that is never closed (which encoding/csv ends at the end of the input);
// and that the records it returned keep to the limits.
func checkStdlib(t testing.TB, in []byte, lim Limits, got []result) {
	t.Helper()
	// Limits as the Reader applies them.
	if lim.MaxField <= 0 {
		lim.MaxField = DefaultMaxField
	}
	if lim.MaxRecord <= 0 {
		lim.MaxRecord = DefaultMaxRecord
	}
	if lim.MaxFields <= 0 {
		lim.MaxFields = DefaultMaxFields
	}

	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(in, bom)))
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	var want []result
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("encoding/csv: %v", err)
		}
		line, _ := cr.FieldPos(0)
		want = append(want, ok(int64(line), rec...))
	}

	if len(got) != len(want) {
		t.Fatalf("%d records, encoding/csv has %d:\n%v\n%v", len(got), len(want), got, want)
	}
	for i, g := range got {
		w := want[i]
		if g.Line != w.Line {
			t.Fatalf("record %d at line %d, encoding/csv has %d", i, g.Line, w.Line)
		}
		if g.Err == "" {
			if !reflect.DeepEqual(g.Fields, w.Fields) {
				t.Fatalf("record %d = %q, encoding/csv has %q", i, g.Fields, w.Fields)
			}
			size := len(g.Fields) - 1 // commas
			for _, f := range g.Fields {
				if len(f) > lim.MaxField {
					t.Fatalf("record %d has a field of %d bytes", i, len(f))
				}
				size += len(f)
			}
			if len(g.Fields) > lim.MaxFields || size > lim.MaxRecord {
				t.Fatalf("record %d has %d fields and at least %d bytes", i, len(g.Fields), size)
			}
			continue
		}
		switch {
		case strings.HasPrefix(g.Err, "unterminated quote"):
			if i != len(got)-1 {
				t.Fatalf("%s in record %d of %d", g.Err, i, len(got))
			}
		case strings.HasPrefix(g.Err, "record has more than"):
			if len(w.Fields) <= lim.MaxFields {
				t.Fatalf("record %d: %s, but encoding/csv has %q", i, g.Err, w.Fields)
			}
		case strings.HasPrefix(g.Err, "field "):
			var n int
			fmt.Sscanf(g.Err, "field %d", &n)
			if n > len(w.Fields) || len(w.Fields[n-1]) <= lim.MaxField {
				t.Fatalf("record %d: %s, but encoding/csv has %q", i, g.Err, w.Fields)
			}
		case strings.HasPrefix(g.Err, "record is longer"):
			// encoding/csv does not say how long the record was.
		default:
			t.Fatalf("record %d: unexpected error %q", i, g.Err)
		}
	}
}

// BenchmarkRead and BenchmarkStdlib read the same 10,000 nine-column
// contact rows, with Reader and with encoding/csv as the importer set it up,
// so that their ns/op compare the two.
func BenchmarkRead(b *testing.B) {
	in := benchInput()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(in), Limits{})
		for {
			_, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkStdlib(b *testing.B) {
	in := benchInput()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		r := csv.NewReader(bytes.NewReader(in))
		r.FieldsPerRecord = -1
		r.ReuseRecord = true
		r.LazyQuotes = true
		for {
			_, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// benchInput returns 10,000 rows like the ones contacts are exported as,
// every field quoted, some with a comma or a doubled quote.
func benchInput() []byte {
	var buf bytes.Buffer
	for i := range 10000 {
		fmt.Fprintf(&buf, "\"92333%07d\",\"First%d\",\"Last\",\"user%d@example.com\",\"%d Main Street, Apt 4\",\"custom 1\",\"\",\"say \"\"hi\"\"\",\"any comments will be here\"\r\n", i, i, i, i)
	}
	return buf.Bytes()
}
