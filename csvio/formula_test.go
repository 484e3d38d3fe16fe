package csvio

import "testing"

var neutralizeTests = []struct {
	in, want string
}{
	// Ordinary values stay as they are.
	{"", ""},
	{"Ali", "Ali"},
	{"O'Brien", "O'Brien"},
	{"user@example.com", "user@example.com"},
	{"923001234567", "923001234567"},
	{"12.5", "12.5"},
	{" =1+2", " =1+2"}, // a leading space makes it text
	{"a=b", "a=b"},

	// Numbers and phone numbers stay as they are.
	{"+923001234567", "+923001234567"},
	{"-12.5", "-12.5"},
	{"-5", "-5"},
	{"+1 (555) 010-9999", "+1 (555) 010-9999"},
	{"+1-555-010-9999", "+1-555-010-9999"},
	{"-(5)", "-(5)"},
	{"+0", "+0"},

	// Formulas get a '.
	{"=1+2", "'=1+2"},
	{"=HYPERLINK(\"http://evil\",\"x\")", "'=HYPERLINK(\"http://evil\",\"x\")"},
	{"@SUM(A1:A2)", "'@SUM(A1:A2)"},
	{"+A1", "'+A1"},
	{"-1+2", "'-1+2"},
	{"+1*2", "'+1*2"},
	{"-1,000", "'-1,000"},
	{"-1e5", "'-1e5"},
	{"+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
	{"-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"},
	{"=", "'="},
	{"+", "'+"},
	{"-", "'-"},
	{"- ", "'- "},
	{"+()", "'+()"},
	{"+１", "'+１"}, // a full-width digit is not a digit
	{"\t=1+2", "'\t=1+2"},
	{"\t5", "'\t5"},
	{"\r=1+2", "'\r=1+2"},

	// A value that starts with ' gets one more if Restore would strip it.
	{"'=x", "''=x"},
	{"''=x", "'''=x"},
	{"'+A1", "''+A1"},
	{"'", "'"},
	{"''", "''"},
	{"'Ali", "'Ali"},
	{"'+92300", "'+92300"},
	{"'-5", "'-5"},
}

func TestNeutralize(t *testing.T) {
	for _, tt := range neutralizeTests {
		if got := Neutralize(tt.in); got != tt.want {
			t.Errorf("Neutralize(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := Restore(tt.want); got != tt.in {
			t.Errorf("Restore(%q) = %q, want %q", tt.want, got, tt.in)
		}
	}
}

func TestRestoreLeavesImportsAlone(t *testing.T) {
	// Values as people type them into a spreadsheet or CSV by hand.
	for _, s := range []string{
		"", "Ali", "'Ali", "O'Brien", "'", "''", "'tis", "user@example.com",
		"+923001234567", "'+923001234567", "-12.5", "+1 (555) 010-9999", "'-5",
		"=1+2", "@home", "-1+2", "\tx",
	} {
		if got := Restore(s); got != s {
			t.Errorf("Restore(%q) = %q, want it unchanged", s, got)
		}
	}
}

// FuzzRoundTrip checks that Restore undoes Neutralize for every string, that
// Neutralize leaves nothing a spreadsheet could take for a formula, and that
// Restore changes only what Neutralize could have made.
func FuzzRoundTrip(f *testing.F) {
	for _, tt := range neutralizeTests {
		f.Add(tt.in)
		f.Add(tt.want)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Neutralize(s)
		if got := Restore(n); got != s {
			t.Fatalf("Restore(Neutralize(%q)) = Restore(%q) = %q", s, n, got)
		}
		if isFormula(n) {
			t.Fatalf("Neutralize(%q) = %q, which could be a formula", s, n)
		}
		if n != s && n != "'"+s {
			t.Fatalf("Neutralize(%q) = %q, want s or 's", s, n)
		}
		if r := Restore(s); r != s {
			if Neutralize(r) != s {
				t.Fatalf("Restore(%q) = %q, but Neutralize(%q) = %q", s, r, r, Neutralize(r))
			}
		}
	})
}
