package csvio_test

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"switchboard/csvio"
)

func ExampleReader() {
	in := "\xEF\xBB\xBF923330000000,Ali\r\n" +
		"923331111111,\"Zoë \"\"Z\"\" Khan\",far too long a name\r\n" +
		"\r\n" +
		"\"923332222222\",\"Multi\nline\"\r\n" +
		"923333333333,\"never closed\r\n" +
		"923334444444,Lost\r\n"
	r := csvio.NewReader(strings.NewReader(in), csvio.Limits{MaxField: 16})
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		var rowErr *csvio.RowError
		if errors.As(err, &rowErr) {
			fmt.Println("rejected:", rowErr)
			continue
		}
		if err != nil {
			fmt.Println("upload failed:", err) // roll back
			return
		}
		fmt.Printf("line %d: %q\n", rec.Line, rec.Fields)
	}
	// Output:
	// line 1: ["923330000000" "Ali"]
	// rejected: line 2: field 3 is longer than 16 bytes
	// line 4: ["923332222222" "Multi\nline"]
	// rejected: line 6: unterminated quote at line 6
}

func ExampleNeutralize() {
	for _, s := range []string{"Ali", "=HYPERLINK(\"http://evil\")", "+923001234567", "-1+2", "'=x"} {
		cell := csvio.Neutralize(s)
		fmt.Printf("%-28q %-30q %t\n", s, cell, csvio.Restore(cell) == s)
	}
	// Output:
	// "Ali"                        "Ali"                          true
	// "=HYPERLINK(\"http://evil\")" "'=HYPERLINK(\"http://evil\")" true
	// "+923001234567"              "+923001234567"                true
	// "-1+2"                       "'-1+2"                        true
	// "'=x"                        "''=x"                         true
}
