package ucontact

import (
	"context"
	"encoding/base64"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"switchboard/models"
)

// Uploaded bases (Dialers/uploadbase, SMS/uploadbase; notes/vendors.md 3.4): base64 of UTF-8 text, one
// record per line, fields separated by ";". The limits keep one upload a short transaction.
const (
	MaxBaseRecords = 10000
	MaxBaseLine    = 4000
	maxMessage     = 2000
)

// Upload is a row of ucontact_uploads: one uploaded base, which its records point at.
type Upload struct {
	ID         int64 `gorm:"primaryKey;column:id"`
	Channel    string
	CampaignID int64
	Filename   string
	Username   string
	Records    int64
	CreatedBy  int64
	CreatedAt  int64
}

// TableName is the table of uploaded bases.
func (Upload) TableName() string { return "ucontact_uploads" }

// BaseRecord is one line of a base: a dialer line `campaign;phone;variables;alternatives;ref;` or an SMS
// line `campaign;phone;message;ref`.
type BaseRecord struct {
	Phone        string
	Variables    string // dialer: `k=v` joined by `:`
	Alternatives string // dialer: numbers joined by `:`, each bare or `TYPE=0=number`
	Message      string // SMS
	Ref          string // the vendor's last field, meaning undocumented: kept as given
}

var (
	basePhone   = regexp.MustCompile(`^\+?[0-9]{1,31}$`)
	alternative = regexp.MustCompile(`^([A-Za-z]+=[0-9]+=)?\+?[0-9]{1,31}$`)
)

// ParseBase decodes an uploaded base of the channel for the campaign named campaign and reads its records.
// cant, when set, must be their number. Every error is Invalid and names the first bad line: the caller
// stores nothing then.
func ParseBase(channel, campaign, fileb64 string, cant *int) ([]BaseRecord, error) {
	text, err := decodeBase64(fileb64)
	if err != nil {
		return nil, err
	}
	var out []BaseRecord
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if len(out) == MaxBaseRecords {
			return nil, models.Errorf(models.Invalid, "the base has more than %d records", MaxBaseRecords)
		}
		if len(line) > MaxBaseLine {
			return nil, models.Errorf(models.Invalid, "line %d: longer than %d bytes", i+1, MaxBaseLine)
		}
		rec, err := parseLine(channel, campaign, line)
		if err != nil {
			return nil, models.Errorf(models.Invalid, "line %d: %s", i+1, err)
		}
		out = append(out, rec)
	}
	if len(out) == 0 {
		return nil, models.Errorf(models.Invalid, "the base holds no record")
	}
	if cant != nil && *cant != len(out) {
		return nil, models.Errorf(models.Invalid, "cant is %d but the base holds %d records", *cant, len(out))
	}
	return out, nil
}

// decodeBase64 reads standard base64 with or without padding; line breaks are ignored, and a space is read
// as the "+" a client forgot to escape in its form.
func decodeBase64(s string) (string, error) {
	s = strings.NewReplacer("\r", "", "\n", "", "\t", "", " ", "+").Replace(s)
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return "", models.Errorf(models.Invalid, "fileb64 is not base64: %v", err)
	}
	if !utf8.Valid(raw) {
		return "", models.Errorf(models.Invalid, "the decoded base is not UTF-8 text")
	}
	return string(raw), nil
}

type lineError string

func (e lineError) Error() string { return string(e) }

func parseLine(channel, campaign, line string) (BaseRecord, error) {
	f := strings.Split(line, ";")
	if len(f) > 1 && f[len(f)-1] == "" {
		f = f[:len(f)-1] // the trailing ";" the vendor's files end their lines with
	}
	most := 5
	if channel == ChannelSMS {
		most = 4
	}
	switch {
	case len(f) < 2 || (channel == ChannelSMS && len(f) < 3):
		return BaseRecord{}, lineError("too few fields")
	case len(f) > most:
		return BaseRecord{}, lineError("too many fields (a field holds no \";\")")
	case f[0] != "" && f[0] != campaign:
		return BaseRecord{}, lineError("campaign " + quote(f[0]) + " is not the form's campaign " + quote(campaign))
	}
	rec := BaseRecord{Phone: strings.TrimSpace(f[1])}
	if !basePhone.MatchString(rec.Phone) {
		return rec, lineError("phone " + quote(f[1]) + " is not a number (digits, an optional leading +)")
	}
	field := func(n int) string {
		if n < len(f) {
			return f[n]
		}
		return ""
	}
	if channel == ChannelSMS {
		rec.Message, rec.Ref = field(2), field(3)
		if rec.Message == "" || utf8.RuneCountInString(rec.Message) > maxMessage {
			return rec, lineError("a message must have 1 to 2000 characters")
		}
	} else {
		rec.Variables, rec.Alternatives, rec.Ref = field(2), field(3), field(4)
		if rec.Variables != "" {
			for item := range strings.SplitSeq(rec.Variables, ":") {
				if k, _, ok := strings.Cut(item, "="); !ok || k == "" {
					return rec, lineError("variable " + quote(item) + " is not k=v")
				}
			}
		}
		if rec.Alternatives != "" {
			for item := range strings.SplitSeq(rec.Alternatives, ":") {
				if !alternative.MatchString(item) {
					return rec, lineError("alternative " + quote(item) + " is not a number or TYPE=0=number")
				}
			}
		}
	}
	if len(rec.Ref) > 64 {
		return rec, lineError("the last field is longer than 64 bytes")
	}
	return rec, nil
}

// quote quotes s for a message, cut to a readable length.
func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return `"` + s + `"`
}

// QueueBase stores an uploaded dialer base and its calls (see QueueCalls) in one transaction.
func QueueBase(ctx context.Context, db *gorm.DB, up *Upload, campaign *Campaign, calls []Call, enqueue Enqueue[Call]) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := createUpload(tx, up, campaign, len(calls)); err != nil {
			return err
		}
		for i := range calls {
			calls[i].UploadID = up.ID
		}
		return queueCalls(tx, campaign, calls, enqueue)
	})
}

// QueueSMSBase stores an uploaded SMS base and its SMS (queued, to be sent by their jobs) in one
// transaction.
func QueueSMSBase(ctx context.Context, db *gorm.DB, up *Upload, campaign *Campaign, sms []SMS, enqueue Enqueue[SMS]) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := holdCampaign(tx, campaign); err != nil {
			return err
		}
		if err := createUpload(tx, up, campaign, len(sms)); err != nil {
			return err
		}
		now := time.Now().Unix()
		for i := range sms {
			m := &sms[i]
			m.ID, m.Direction, m.Status, m.UploadID, m.CreatedAt = 0, Outbound, SMSQueued, up.ID, now
			m.CampaignID, m.Campaign = campaign.ID, campaign.Name
		}
		if err := tx.CreateInBatches(sms, 500).Error; err != nil {
			return err
		}
		return enqueue(tx, sms)
	})
}

func createUpload(tx *gorm.DB, up *Upload, campaign *Campaign, n int) error {
	up.ID, up.Channel, up.CampaignID, up.Records, up.CreatedAt = 0, campaign.Channel, campaign.ID, int64(n), time.Now().Unix()
	return tx.Create(up).Error
}
