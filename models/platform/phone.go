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

func readAs(region string) string {
	if region == "" {
		return "E.164 with a leading +; no default region is set (PHONE_DEFAULT_REGION) for national numbers"
	}
	return "E.164 with a leading +, or national in region " + region
}
