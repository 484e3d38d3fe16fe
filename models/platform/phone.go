package platform

import (
	"github.com/nyaruka/phonenumbers"

	"switchboard/models"
)

// E164 answers phone in E.164: read as international when it starts with +, else as a national number
// of region (an ISO country code; empty: only international numbers are read). A number that cannot be
// read, or that its country's numbering plan does not have, is Invalid, naming it.
func E164(phone, region string) (string, error) {
	n, err := phonenumbers.Parse(phone, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", models.Errorf(models.Invalid, "number %q is not a valid phone number (%s)", phone, readAs(region))
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// lookupForm answers phone in the E.164 form lists hold, as E164 reads it, without checking the number
// against its country's plan: that check is half the cost of reading a number, and lists hold only
// numbers that passed it, so a number failing it matches no entry anyway (validity depends only on
// the digits the E.164 form keeps).
func lookupForm(phone, region string) (string, bool) {
	n, err := phonenumbers.Parse(phone, region)
	if err != nil {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

func readAs(region string) string {
	if region == "" {
		return "E.164 with a leading +; no default region is set (PHONE_DEFAULT_REGION) for national numbers"
	}
	return "E.164 with a leading +, or national in region " + region
}
