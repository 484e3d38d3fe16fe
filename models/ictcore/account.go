package ictcore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard/models"
)

// ICTCore's accounts (migration step 6): a user account, a DID, an extension or an e-mail address, unique
// by type and username, with a bag of named settings (account_settings) and an owner (UserID, nil once
// dissociated; such an account is an admin's alone to see). Passwords are kept only as hashes.

// Account is one account; Settings is loaded with it and never a column.
type Account struct {
	ID         int64 `gorm:"primaryKey;column:account_id"`
	Type       string
	Username   string
	PasswdHash string // hash of the write-only passwd
	PinHash    string // hash of the write-only passwd_pin
	FirstName  string
	LastName   string
	Phone      string
	Email      string
	Address    string
	Active     int
	UserID     *int64 // the owner; nil: dissociated
	CreatedAt  int64
	UpdatedAt  int64
	Settings   map[string]string `gorm:"-"`
}

// TableName is the table of migration step 6.
func (Account) TableName() string { return "accounts" }

// AccountSetting is one named setting of an account.
type AccountSetting struct {
	AccountID int64  `gorm:"primaryKey;autoIncrement:false"`
	Name      string `gorm:"primaryKey"`
	Value     string
}

// TableName is the table of migration step 6.
func (AccountSetting) TableName() string { return "account_settings" }

// MaxAccountSettings is how many settings one account holds at most: the contract answers at most 50.
const MaxAccountSettings = 50

var accounts = table{"accounts", "account_id", "account"}

// AccountFilter is the whitelist of the account list's parameters.
type AccountFilter struct {
	ID, UserID, Before, After                   *int64
	Type                                        *string // equal
	Username, Phone, Email, FirstName, LastName *string // contain, ignoring case
	models.ListQuery
}

// errSettingNotFound is the answer for a setting an account does not have (ICTCore's message).
var errSettingNotFound = models.Errorf(models.NotFound, "Setting not found")

// CreateAccount stores a and its settings in one transaction and sets its id; a taken type and username
// is a Conflict.
func CreateAccount(ctx context.Context, db *gorm.DB, a *Account) error {
	if err := a.check(); err != nil {
		return err
	}
	if err := checkSettingNames(a.Settings); err != nil {
		return err
	}
	a.ID = 0
	stamp(&a.CreatedAt, &a.UpdatedAt)
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(a).Error; err != nil {
			return usernameTaken(err, a)
		}
		return mergeSettings(tx, a.ID, a.Settings)
	})
	if err != nil {
		a.ID = 0
	}
	return err
}

// GetAccount loads an account the owner may see, with its settings.
func GetAccount(ctx context.Context, db *gorm.DB, o Owner, id int64) (*Account, error) {
	a, err := getOwned[Account](ctx, db, accounts, o, id)
	if err != nil {
		return nil, err
	}
	if err := loadSettings(db.WithContext(ctx), []*Account{a}); err != nil {
		return nil, err
	}
	return a, nil
}

// UpdateAccount lets change edit the account and merges settings into its stored settings (key by key),
// in one transaction; change answers an error to refuse the update, and nothing is written then.
func UpdateAccount(ctx context.Context, db *gorm.DB, o Owner, id int64, settings map[string]string, change func(*Account) error) (*Account, error) {
	if err := checkSettingNames(settings); err != nil {
		return nil, err
	}
	return changeAccount(ctx, db, o, id, func(tx *gorm.DB, a *Account) error {
		if err := change(a); err != nil {
			return err
		}
		if err := a.check(); err != nil {
			return err
		}
		stampUpdate(&a.UpdatedAt)
		if err := tx.Save(a).Error; err != nil {
			return usernameTaken(err, a)
		}
		return mergeSettings(tx, a.ID, settings)
	})
}

// AssignAccount makes user userID the owner of the account. The user must exist (404 otherwise); it is
// held (shared lock on Postgres) until the change commits, so it cannot be deleted meanwhile.
func AssignAccount(ctx context.Context, db *gorm.DB, o Owner, id, userID int64) (*Account, error) {
	return changeAccountAfter(ctx, db, o, id, func(tx *gorm.DB) error {
		q := tx.Table("users").Where("user_id = ?", userID)
		if models.IsPostgres(tx) {
			q = q.Clauses(clause.Locking{Strength: "SHARE"})
		}
		var ids []int64
		if err := q.Pluck("user_id", &ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return models.Errorf(models.NotFound, "user %d not found", userID)
		}
		return nil
	}, func(tx *gorm.DB, a *Account) error {
		a.UserID = &userID
		stampUpdate(&a.UpdatedAt)
		if err := tx.Save(a).Error; err != nil {
			return err
		}
		// The subscriptions were the previous owner's (the contract, as the reference code).
		return tx.Where("account_id = ?", id).Delete(&accountProgram{}).Error
	})
}

// DissociateAccount leaves the account without an owner.
func DissociateAccount(ctx context.Context, db *gorm.DB, o Owner, id int64) (*Account, error) {
	return changeAccount(ctx, db, o, id, func(tx *gorm.DB, a *Account) error {
		a.UserID = nil
		stampUpdate(&a.UpdatedAt)
		return tx.Save(a).Error
	})
}

// DeleteAccount deletes an account, its settings and its subscriptions in one transaction.
func DeleteAccount(ctx context.Context, db *gorm.DB, o Owner, id int64) error {
	return deleteOwned(ctx, db, accounts, o, id, func(tx *gorm.DB) error {
		if err := tx.Where("account_id = ?", id).Delete(&accountProgram{}).Error; err != nil {
			return err
		}
		return tx.Where("account_id = ?", id).Delete(&AccountSetting{}).Error
	})
}

// ListAccounts answers a page of the accounts the owner may see that match f, each with its settings.
func ListAccounts(ctx context.Context, db *gorm.DB, o Owner, f AccountFilter) (models.PageOf[Account], error) {
	page, err := listOwned(ctx, db, accounts, o, f.ListQuery, func(a *Account) int64 { return a.ID },
		models.Equal("account_id", f.ID),
		models.Equal("type", f.Type),
		models.Contains("username", f.Username),
		models.Contains("phone", f.Phone),
		models.Contains("email", f.Email),
		models.Contains("first_name", f.FirstName),
		models.Contains("last_name", f.LastName),
		models.Equal("user_id", f.UserID),
		models.AtMost("created_at", f.Before),
		models.AtLeast("created_at", f.After),
	)
	if err != nil || len(page.Items) == 0 {
		return page, err
	}
	ptrs := make([]*Account, len(page.Items))
	for i := range page.Items {
		ptrs[i] = &page.Items[i]
	}
	return page, loadSettings(db.WithContext(ctx), ptrs)
}

// GetAccountSetting answers the value of setting name of an account the owner may see.
func GetAccountSetting(ctx context.Context, db *gorm.DB, o Owner, id int64, name string) (string, error) {
	if _, err := getOwned[Account](ctx, db, accounts, o, id); err != nil {
		return "", err
	}
	var s AccountSetting
	err := db.WithContext(ctx).Where("account_id = ? AND name = ?", id, name).Take(&s).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", errSettingNotFound
	}
	if err != nil {
		return "", err
	}
	return s.Value, nil
}

// PutAccountSetting creates or replaces setting name of an account the owner may change.
func PutAccountSetting(ctx context.Context, db *gorm.DB, o Owner, id int64, name, value string) error {
	settings := map[string]string{name: value}
	if err := checkSettingNames(settings); err != nil {
		return err
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := touchAccount(tx, o, id); err != nil {
			return err
		}
		return mergeSettings(tx, id, settings)
	})
}

// DeleteAccountSetting deletes setting name of an account the owner may change; a setting the account
// does not have is not found.
func DeleteAccountSetting(ctx context.Context, db *gorm.DB, o Owner, id int64, name string) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := touchAccount(tx, o, id); err != nil {
			return err
		}
		res := tx.Where("account_id = ? AND name = ?", id, name).Delete(&AccountSetting{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errSettingNotFound
		}
		return nil
	})
}

// changeAccount locks an account the owner may change, lets change edit and save it in the same
// transaction, and answers it as stored, with its settings.
func changeAccount(ctx context.Context, db *gorm.DB, o Owner, id int64, change func(tx *gorm.DB, a *Account) error) (*Account, error) {
	return changeAccountAfter(ctx, db, o, id, nil, change)
}

// changeAccountAfter is changeAccount with a first step (before, if not nil) run in the transaction ahead
// of the account's lock, for what must be locked first.
func changeAccountAfter(ctx context.Context, db *gorm.DB, o Owner, id int64, before func(tx *gorm.DB) error, change func(tx *gorm.DB, a *Account) error) (*Account, error) {
	var a Account
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if before != nil {
			if err := before(tx); err != nil {
				return err
			}
		}
		q := o.scope(tx.Model(&Account{})).Where("account_id = ?", id)
		if models.IsPostgres(tx) {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Take(&a).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return accounts.notFound(id)
			}
			return err
		}
		if err := change(tx, &a); err != nil {
			return err
		}
		return loadSettings(tx, []*Account{&a})
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// touchAccount stamps the update time of an account the owner may change, which also locks its row until
// the transaction ends (settings of one account are written one transaction at a time).
func touchAccount(tx *gorm.DB, o Owner, id int64) error {
	var updated int64
	stampUpdate(&updated)
	res := o.scope(tx.Model(&Account{})).Where("account_id = ?", id).Update("updated_at", updated)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return accounts.notFound(id)
	}
	return nil
}

// mergeSettings writes settings over the account's stored ones, key by key (in key order, so concurrent
// writers lock rows in one order), and refuses a result of more than MaxAccountSettings settings.
func mergeSettings(tx *gorm.DB, id int64, settings map[string]string) error {
	if len(settings) == 0 {
		return nil
	}
	rows := make([]AccountSetting, 0, len(settings))
	for _, name := range slices.Sorted(maps.Keys(settings)) {
		rows = append(rows, AccountSetting{AccountID: id, Name: name, Value: settings[name]})
	}
	err := tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "account_id"}, {Name: "name"}},
		DoUpdates: clause.AssignmentColumns([]string{"value"}),
	}).Create(&rows).Error
	if err != nil {
		return err
	}
	var n int64
	if err := tx.Model(&AccountSetting{}).Where("account_id = ?", id).Count(&n).Error; err != nil {
		return err
	}
	if n > MaxAccountSettings {
		return models.Errorf(models.Invalid, "settings: an account holds at most %d settings, this one would hold %d",
			MaxAccountSettings, n)
	}
	return nil
}

// loadSettings fills the Settings of each account (an empty map for none).
func loadSettings(db *gorm.DB, as []*Account) error {
	byID := make(map[int64]*Account, len(as))
	ids := make([]int64, len(as))
	for i, a := range as {
		a.Settings = map[string]string{}
		byID[a.ID], ids[i] = a, a.ID
	}
	var rows []AccountSetting
	if err := db.Where("account_id IN ?", ids).Find(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		byID[r.AccountID].Settings[r.Name] = r.Value
	}
	return nil
}

// check applies the rules the contract's schema cannot say for every body: a username, and a phone and an
// e-mail address that are well formed when set (an update may clear them).
func (a *Account) check() error {
	switch {
	case a.Username == "":
		return models.Errorf(models.Invalid, "username is required")
	case a.Phone != "" && !phonePattern.MatchString(a.Phone):
		return models.Errorf(models.Invalid, "phone %q is not a phone number", a.Phone)
	case a.Email != "" && !ValidEmail(a.Email):
		return models.Errorf(models.Invalid, "email %q is not an e-mail address", a.Email)
	}
	return nil
}

// checkSettingNames refuses a setting name the settings routes could not address: 1 to 64 letters,
// digits, '_', '.' or '-' (the contract's pattern for {name}).
func checkSettingNames(settings map[string]string) error {
	for name := range settings {
		if !validSettingName(name) {
			return models.Errorf(models.Invalid, "settings: %.64q is not a setting name (1 to 64 letters, digits, '_', '.' or '-')", name)
		}
	}
	return nil
}

func validSettingName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, c := range []byte(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '.', c == '-':
		default:
			return false
		}
	}
	return true
}

// usernameTaken classifies a write's error: a unique violation is the type and username being taken.
func usernameTaken(err error, a *Account) error {
	if models.KindOf(err) == models.Conflict {
		return models.Wrap(models.Conflict, err, fmt.Sprintf("an account of type %s with username %q already exists", a.Type, a.Username))
	}
	return err
}

// SubscribeProgram subscribes an account the owner may change to a program the owner may see; twice is
// harmless. It answers the account.
func SubscribeProgram(ctx context.Context, db *gorm.DB, o Owner, id, programID int64) (*Account, error) {
	return changeAccountAfter(ctx, db, o, id, func(tx *gorm.DB) error {
		return exists(tx, programs, o, programID)
	}, func(tx *gorm.DB, a *Account) error {
		stampUpdate(&a.UpdatedAt)
		if err := tx.Save(a).Error; err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO account_programs (account_id, program_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, programID).Error
	})
}

// UnsubscribeProgram ends one subscription (programID) or all of them (nil); the programs stay. A named
// program must exist and be the owner's.
func UnsubscribeProgram(ctx context.Context, db *gorm.DB, o Owner, id int64, programID *int64) (*Account, error) {
	return changeAccountAfter(ctx, db, o, id, func(tx *gorm.DB) error {
		if programID == nil {
			return nil
		}
		return exists(tx, programs, o, *programID)
	}, func(tx *gorm.DB, a *Account) error {
		stampUpdate(&a.UpdatedAt)
		if err := tx.Save(a).Error; err != nil {
			return err
		}
		q := tx.Where("account_id = ?", id)
		if programID != nil {
			q = q.Where("program_id = ?", *programID)
		}
		return q.Delete(&accountProgram{}).Error
	})
}

// SubscribedPrograms answers the ids of the programs an account is subscribed to, in id order.
func SubscribedPrograms(ctx context.Context, db *gorm.DB, id int64) ([]int64, error) {
	var ids []int64
	err := db.WithContext(ctx).Model(&accountProgram{}).Where("account_id = ?", id).Order("program_id").Pluck("program_id", &ids).Error
	return ids, err
}

// accountProgram is a row of account_programs (migration step 10).
type accountProgram struct {
	AccountID int64 `gorm:"primaryKey"`
	ProgramID int64 `gorm:"primaryKey"`
}

func (accountProgram) TableName() string { return "account_programs" }
