package ictcore

import (
	"net/mail"
	"regexp"

	"switchboard/models"
)

// phonePattern is the contract's ContactInput.phone pattern: an optional +, then digits, spaces and the
// punctuation people write in phone numbers.
var phonePattern = regexp.MustCompile(`^\+?[0-9][0-9 ().-]*$`)

// ValidEmail tells whether s is a bare e-mail address (no display name, no angle brackets).
func ValidEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// Check applies ICTCore's rules for a contact, the same for create, update and CSV import: it needs a phone
// or an e-mail, and each must be well formed. It answers an Invalid error, or nil.
func (c *Contact) Check() error {
	switch {
	case c.Phone == "" && c.Email == "":
		return models.Errorf(models.Invalid, "contact needs a phone or an email")
	case c.Phone != "" && !phonePattern.MatchString(c.Phone):
		return models.Errorf(models.Invalid, "phone %q is not a phone number", c.Phone)
	case c.Email != "" && !ValidEmail(c.Email):
		return models.Errorf(models.Invalid, "email %q is not an e-mail address", c.Email)
	}
	return nil
}
