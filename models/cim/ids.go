// Package cim holds Expertflow CIM's rows (openapi/cim.yaml, migration 22): the run-time contact schema
// (schema.go), contacts with their attribute values and phone numbers (contacts.go, search.go), the search
// criteria that find the contact of a call (mapping.go), and the interaction history of calls
// (interactions.go), which the call-event stream also writes (RecordCall).
package cim

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"switchboard/models"
)

// counterBits is how many low bits of an id count objects created in the same second; the bits above
// them are the creation second (unix). An id is max(last + 1, now << counterBits), so ids grow with
// creation time and stay below 2^63 until the year 2106.
const counterBits = 24

// Kinds of object, each with its own counter row in cim_ids.
const (
	kindContacts   = "contacts"
	kindAttributes = "attributes"
	kindMappings   = "mappings"
	kindTrees      = "trees"
	kindLegs       = "legs"
)

// now is the clock ids and times are taken from.
var now = time.Now

// FormatID answers an id as CIM's `_id`: 24 lower-case hex digits, the creation second (8) then the
// counter within it (16), like a MongoDB ObjectId's leading timestamp.
func FormatID(id int64) string {
	return fmt.Sprintf("%08x%016x", uint64(id)>>counterBits, uint64(id)&(1<<counterBits-1))
}

// ParseID reads an `_id`. exact is false when the text is well formed but names no id Switchboard can
// make (a counter beyond counterBits): then id is the greatest id of that second, which is still the right
// place for a keyset cursor. ok is false for text that is not 24 hex digits.
func ParseID(s string) (id int64, exact, ok bool) {
	if len(s) != 24 {
		return 0, false, false
	}
	if _, err := hex.DecodeString(s); err != nil {
		return 0, false, false
	}
	secs, err1 := strconv.ParseUint(s[:8], 16, 32)
	count, err2 := strconv.ParseUint(s[8:], 16, 64)
	if err1 != nil || err2 != nil {
		return 0, false, false
	}
	const maxCount = 1<<counterBits - 1
	exact = count <= maxCount
	return int64(secs<<counterBits | min(count, maxCount)), exact, true
}

// allocID answers a new id of the kind, inside tx. The counter row stays locked until tx ends (on
// Postgres; SQLite has one writer at a time anyway), so ids of one kind are handed out in commit order.
func allocID(tx *gorm.DB, kind string) (int64, error) {
	floor := now().Unix() << counterBits
	var last int64
	err := tx.Raw(`UPDATE cim_ids SET last = CASE WHEN last + 1 > ? THEN last + 1 ELSE ? END WHERE name = ? RETURNING last`,
		floor, floor, kind).Scan(&last).Error
	if err != nil {
		return 0, err
	}
	if last == 0 {
		return 0, fmt.Errorf("cim_ids has no counter %q", kind)
	}
	return last, nil
}

// notFound answers the NotFound error of an object of the kind named what.
func notFound(what string, id int64) error {
	return models.Errorf(models.NotFound, "%s %s not found", what, FormatID(id))
}
