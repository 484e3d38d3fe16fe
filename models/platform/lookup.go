package platform

import (
	"context"
	"slices"

	"gorm.io/gorm"
)

// ListRef names a list that holds a number.
type ListRef struct {
	ID     int64
	Name   string
	Global bool
}

// hit is one list holding one number, as holding reads them.
type hit struct {
	Number string
	ListRef
}

// holdingChunk bounds the numbers of one query, well below both stores' limits on bound parameters.
const holdingChunk = 5000

// holding answers, for E.164 numbers, the lists that hold them and apply to the campaign (global lists,
// and those attached to it; campaignID 0: global lists only), in list id order: one query per
// holdingChunk numbers. The index on dnc_numbers.number serves it.
func holding(ctx context.Context, db *gorm.DB, campaignID int64, numbers []string) ([]hit, error) {
	var out []hit
	for chunk := range slices.Chunk(numbers, holdingChunk) {
		var hits []hit
		err := db.WithContext(ctx).Raw(`SELECT n.number, l.id, l.name, l.global FROM dnc_numbers n JOIN dnc_lists l ON l.id = n.list_id
			WHERE n.number IN ? AND (l.global OR l.id IN (SELECT list_id FROM dnc_list_campaigns WHERE campaign_id = ?))
			ORDER BY l.id`, chunk, campaignID).Scan(&hits).Error
		if err != nil {
			return nil, err
		}
		out = append(out, hits...)
	}
	return out, nil
}

// anyApplies answers whether a list that applies to the campaign (as holding reads them) holds a number.
func anyApplies(ctx context.Context, db *gorm.DB, campaignID int64) (bool, error) {
	var some bool
	// List by list, each a seek on the numbers' primary key (list_id, number): lists are few.
	err := db.WithContext(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM dnc_lists l
		WHERE (l.global OR l.id IN (SELECT list_id FROM dnc_list_campaigns WHERE campaign_id = ?))
		AND EXISTS (SELECT 1 FROM dnc_numbers n WHERE n.list_id = l.id))`, campaignID).Scan(&some).Error
	return some, err
}

// Lookup answers number in E.164 and the lists that hold it and apply to the campaign (0: none, so only
// global lists), in id order. An unreadable number is Invalid; a campaign that does not exist NotFound.
func Lookup(ctx context.Context, db *gorm.DB, region, number string, campaignID int64) (string, []ListRef, error) {
	n, err := E164(number, region)
	if err != nil {
		return "", nil, err
	}
	if campaignID != 0 {
		if err := campaignExists(db.WithContext(ctx), campaignID); err != nil {
			return "", nil, err
		}
	}
	hits, err := holding(ctx, db, campaignID, []string{n})
	refs := make([]ListRef, len(hits))
	for i, h := range hits {
		refs[i] = h.ListRef
	}
	return n, refs, err
}

// DoNotCall is the dialer's check: for each of phones (as stored on contacts, any form; region reads
// national ones) that is on a global list or on a list attached to the campaign (0: no campaign, global
// lists only), the answer maps the phone as given to the name of one list holding it (the lowest id).
// A phone that is not a valid number is not matched. One query serves up to holdingChunk phones.
func DoNotCall(ctx context.Context, db *gorm.DB, region string, campaignID int64, phones []string) (map[string]string, error) {
	out := map[string]string{}
	if len(phones) == 0 {
		return out, nil
	}
	// Reading a number costs more than the whole query (a fifth of the sends bench's CPU went to it),
	// so a deployment whose lists that apply hold nothing reads none.
	if some, err := anyApplies(ctx, db, campaignID); err != nil || !some {
		return out, err
	}
	given := make(map[string][]string, len(phones)) // E.164 → the phones as given
	numbers := make([]string, 0, len(phones))
	for _, p := range phones {
		n, ok := lookupForm(p, region)
		if !ok {
			continue
		}
		if _, ok := given[n]; !ok {
			numbers = append(numbers, n)
		}
		given[n] = append(given[n], p)
	}
	if len(numbers) == 0 {
		return out, nil
	}
	hits, err := holding(ctx, db, campaignID, numbers)
	if err != nil {
		return nil, err
	}
	for _, h := range hits {
		for _, p := range given[h.Number] {
			if _, ok := out[p]; !ok { // hits come in list id order: the first is the lowest
				out[p] = h.Name
			}
		}
	}
	return out, nil
}
