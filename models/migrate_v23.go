package models

import "gorm.io/gorm"

// Step 23: uContact Integra (issue 10, item 2; openapi/ucontact.yaml). No foreign keys, as elsewhere:
// models/ucontact deletes or cancels what hangs off a row in the same transaction. Times are unix seconds.
//
//   - ucontact_users are the supervisors and agents of the uContact API, a namespace of their own (not the
//     users table: a uContact name must not be an ICTCore login, see models/ucontact). An agent's
//     logged_in, interface and logoff_message are what AgentLogin and AgentLogoff record.
//   - ucontact_sessions is one row per issued API key: the SHA-256 of the key (never the key), and
//     ended_at once EndSession disabled it.
//   - ucontact_campaigns are the campaigns the services name, each of one channel (telephony or sms).
//   - ucontact_calls is every call the API made or queued: AgentCall's two-step calls and the dialer's
//     records (DialerTask, ScheduleDialerCall, Dialers/uploadbase, Webcallback, a disposition's
//     reschedule), each with its GUID, its dial time and its outcome. (campaign_id, status) finds a
//     deleted campaign's pending calls.
//   - ucontact_uploads is one row per uploaded base (dialer or SMS); its records point at it.
//   - ucontact_dispositions stores every DispositionCall field, the caller and the call it names.
//   - ucontact_sms is every SMS: sent (SendSMS, SMS/uploadbase) or received (ReceiveURLSMS).
type ucontactUserV23 struct {
	ID            int64  `gorm:"primaryKey;column:id"`
	Name          string `gorm:"size:64;not null;uniqueIndex"`
	Role          string `gorm:"size:16;not null"`
	PasswordHash  string `gorm:"size:255;not null"`
	Fullname      string `gorm:"size:255;not null;default:''"`
	Email         string `gorm:"size:255;not null;default:''"`
	Phone         string `gorm:"size:32;not null;default:''"`
	Context       string `gorm:"size:64;not null;default:''"`
	LoggedIn      bool   `gorm:"not null;default:false"`
	Interface     string `gorm:"size:255;not null;default:''"`
	LogoffMessage string `gorm:"type:text;not null;default:''"`
	LoginAt       int64  `gorm:"not null;default:0"`
	LogoffAt      int64  `gorm:"not null;default:0"`
	CreatedAt     int64  `gorm:"not null"`
	UpdatedAt     int64  `gorm:"not null"`
}

func (ucontactUserV23) TableName() string { return "ucontact_users" }

type ucontactSessionV23 struct {
	ID        int64  `gorm:"primaryKey;column:id"`
	UserID    int64  `gorm:"not null;index"`
	KeyHash   string `gorm:"size:64;not null;uniqueIndex"`
	CreatedAt int64  `gorm:"not null"`
	EndedAt   *int64
}

func (ucontactSessionV23) TableName() string { return "ucontact_sessions" }

type ucontactCampaignV23 struct {
	ID        int64  `gorm:"primaryKey;column:id"`
	Name      string `gorm:"size:255;not null;uniqueIndex"`
	Channel   string `gorm:"size:16;not null"`
	CallerID  string `gorm:"column:callerid;size:32;not null;default:''"`
	CreatedAt int64  `gorm:"not null"`
}

func (ucontactCampaignV23) TableName() string { return "ucontact_campaigns" }

type ucontactCallV23 struct {
	ID           int64  `gorm:"primaryKey;column:id"`
	GUID         string `gorm:"column:guid;size:36;not null;uniqueIndex"`
	Origin       string `gorm:"size:16;not null"`
	CampaignID   int64  `gorm:"not null;default:0;index:idx_ucontact_calls_campaign,priority:1"`
	Campaign     string `gorm:"size:255;not null;default:''"`
	Agent        string `gorm:"size:255;not null;default:''"`
	Phone        string `gorm:"size:64;not null;default:''"`
	CallerID     string `gorm:"column:callerid;size:64;not null;default:''"`
	Tech         string `gorm:"size:16;not null;default:''"`
	Context      string `gorm:"size:255;not null;default:''"`
	Destination  string `gorm:"size:64;not null"`
	Alternatives string `gorm:"type:text;not null;default:''"`
	Data         string `gorm:"type:text;not null;default:''"`
	Source       string `gorm:"size:64;not null;default:''"`
	Bulk         bool   `gorm:"not null;default:false"`
	Automatic    bool   `gorm:"not null;default:false"`
	Ref          string `gorm:"size:64;not null;default:''"`
	UploadID     int64  `gorm:"not null;default:0"`
	CallDate     int64  `gorm:"column:calldate;not null"`
	Status       string `gorm:"size:16;not null;index:idx_ucontact_calls_campaign,priority:2"`
	Reason       string `gorm:"type:text;not null;default:''"`
	CreatedBy    int64  `gorm:"not null;default:0"`
	CreatedAt    int64  `gorm:"not null"`
	DialedAt     int64  `gorm:"not null;default:0"`
}

func (ucontactCallV23) TableName() string { return "ucontact_calls" }

type ucontactUploadV23 struct {
	ID         int64  `gorm:"primaryKey;column:id"`
	Channel    string `gorm:"size:16;not null"`
	CampaignID int64  `gorm:"not null"`
	Filename   string `gorm:"size:255;not null;default:''"`
	Username   string `gorm:"size:255;not null;default:''"`
	Records    int64  `gorm:"not null"`
	CreatedBy  int64  `gorm:"not null"`
	CreatedAt  int64  `gorm:"not null"`
}

func (ucontactUploadV23) TableName() string { return "ucontact_uploads" }

type ucontactDispositionV23 struct {
	ID               int64  `gorm:"primaryKey;column:id"`
	UserID           int64  `gorm:"not null"`
	CallID           int64  `gorm:"not null;default:0"`
	UniqueID         string `gorm:"column:unique_id;size:32;not null;default:''"`
	Campaign         string `gorm:"size:255;not null;default:'';index"`
	Agent            string `gorm:"size:255;not null;default:'';index"`
	CallerID         string `gorm:"column:callerid;size:64;not null;default:''"`
	GUID             string `gorm:"column:guid;size:64;not null;default:'';index"`
	L1               string `gorm:"column:l1;size:255;not null"`
	L2               string `gorm:"column:l2;size:255;not null;default:''"`
	L3               string `gorm:"column:l3;size:255;not null;default:''"`
	D1               string `gorm:"column:d1;type:text;not null;default:''"`
	D2               string `gorm:"column:d2;type:text;not null;default:''"`
	Comment          string `gorm:"type:text;not null;default:''"`
	Schedule         string `gorm:"size:19;not null;default:''"`
	CampToReschedule string `gorm:"column:camptoreschedule;size:255;not null;default:''"`
	Tag              string `gorm:"size:255;not null;default:''"`
	CreatedAt        int64  `gorm:"not null"`
}

func (ucontactDispositionV23) TableName() string { return "ucontact_dispositions" }

type ucontactSMSV23 struct {
	ID         int64  `gorm:"primaryKey;column:id"`
	Direction  string `gorm:"size:1;not null"`
	CampaignID int64  `gorm:"not null;default:0;index:idx_ucontact_sms_campaign,priority:1"`
	Campaign   string `gorm:"size:255;not null;default:''"`
	Agent      string `gorm:"size:255;not null;default:''"`
	Source     string `gorm:"size:64;not null;default:''"`
	Phone      string `gorm:"size:64;not null"`
	Message    string `gorm:"type:text;not null"`
	Status     string `gorm:"size:16;not null;index:idx_ucontact_sms_campaign,priority:2"`
	Reason     string `gorm:"type:text;not null;default:''"`
	Gateway    string `gorm:"size:32;not null;default:''"`
	UploadID   int64  `gorm:"not null;default:0"`
	Ref        string `gorm:"size:64;not null;default:''"`
	CreatedBy  int64  `gorm:"not null;default:0"`
	CreatedAt  int64  `gorm:"not null"`
	SentAt     int64  `gorm:"not null;default:0"`
}

func (ucontactSMSV23) TableName() string { return "ucontact_sms" }

func migrateV23(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&ucontactUserV23{}, &ucontactSessionV23{}, &ucontactCampaignV23{},
		&ucontactCallV23{}, &ucontactUploadV23{}, &ucontactDispositionV23{}, &ucontactSMSV23{})
}
