package csvio

import "strings"

// Neutralize returns s made safe to put in a CSV cell that a spreadsheet may
// open: if s could be taken for a formula, it gets a leading ', which
// spreadsheets read as "this cell is text". [Restore] undoes it.
//
// A cell could be taken for a formula if it starts with =, +, -, @, a tab or
// a CR, unless it is a number or a phone number: a + or - followed only by
// digits, spaces and the characters . ( ) -, with at least one digit, as in
// -12.5 or +1 (555) 010-9999. Such a cell holds no letters, quotes or cell
// references, so a spreadsheet that still evaluates it (+1-555-0100 as
// -554, say) can only do arithmetic on the digits in it; it cannot call a
// function, refer to another cell or open a link. Any other character makes
// the cell a formula, so -1+2 and -1,000 get a '.
//
// So that Restore(Neutralize(s)) == s for every s, a cell that starts with '
// also gets one more ' if what follows its leading 's could be taken for a
// formula: '=x becomes ”=x.
func Neutralize(s string) string {
	if isFormula(strings.TrimLeft(s, "'")) {
		return "'" + s
	}
	return s
}

// Restore undoes [Neutralize] on a cell read from CSV: it removes the leading
// ' from s if what follows the leading 's of s could be taken for a formula.
// It leaves every other value alone, including names that start with '.
func Restore(s string) string {
	if strings.HasPrefix(s, "'") && isFormula(strings.TrimLeft(s, "'")) {
		return s[1:]
	}
	return s
}

// isFormula reports whether a spreadsheet could take s for a formula.
func isFormula(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '@', '\t', '\r':
		return true
	case '+', '-':
		return !isNumber(s[1:])
	}
	return false
}

// isNumber reports whether s, which follows a sign, is a number or the rest
// of a phone number.
func isNumber(s string) bool {
	digit := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			digit = true
		case c == ' ', c == '.', c == '(', c == ')', c == '-':
		default:
			return false
		}
	}
	return digit
}
