// Package accolades holds the rows of the Accolades CRM (openapi/asyncapi/accolades-crm.yaml and
// openapi/accolades-api.yaml): accounts (the REST API's account number and API password, and the account's
// configuration text) and their agents (the CRM id a CRM authenticates with over the WebSocket, the
// phone's device id, an optional IP allow-list, the agent's and the phone's configuration texts), and the
// leases that keep one connection per CRM id across nodes (leases.go).
//
// Agents have tables of their own rather than rows of the users table (models/identity), although DESIGN §4
// names Accolades CRM ids among that table's tenants: an agent never signs in with a password (its CRM id,
// a random string the server generates, is the socket's whole credential), it belongs to an Accolades
// account that has no counterpart among users, and the users table is ICTCore's /users resource, whose rows
// ICTCore lists, edits, deletes and logs in, and which open the platform API. An agent kept there would be
// an ICTCore user or need excluding from every one of those paths; kept here it is only what the
// Accolades API makes of it (DESIGN §4: each API keeps its own resources).
package accolades

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard/auth"
	"switchboard/models"
)

// Limits of the document and of the contracts.
const (
	MaxData       = 2000 // characters of one configuration text (account, phone, agent)
	MaxName       = 128  // characters of an account's or an agent's name
	MaxAllowedIPs = 32   // entries of an agent's allow-list
	MinPassword   = 8    // bytes of an API password
	MaxPassword   = 72   // bytes of an API password (bcrypt reads no more)
	crmIDBytes    = 10   // random bytes of a CRM id: 20 hex digits
)

// Account is a row of accolades_accounts (migration step 24).
type Account struct {
	ID            int64 `gorm:"primaryKey;column:id"`
	AccountNumber string
	Name          string
	PasswordHash  string
	Data          string
	CreatedAt     int64
}

// TableName is the table of Accolades accounts.
func (Account) TableName() string { return "accolades_accounts" }

// Agent is a row of accolades_agents: the person a CRM is notified for, with the phone they use.
type Agent struct {
	ID         int64 `gorm:"primaryKey;column:id"`
	AccountID  int64
	Name       string
	CrmID      string `gorm:"column:crm_id"`
	DeviceID   string
	AllowedIPs string `gorm:"column:allowed_ips"` // comma-separated, canonical; empty: any address
	Data       string
	PhoneData  string
	CreatedAt  int64
}

// TableName is the table of Accolades agents.
func (Agent) TableName() string { return "accolades_agents" }

// IPs answers the agent's allow-list (nil: no list, any address).
func (a *Agent) IPs() []string {
	if a.AllowedIPs == "" {
		return nil
	}
	return strings.Split(a.AllowedIPs, ",")
}

// Allows tells whether a connection from addr ("host:port" as net/http's RemoteAddr, or a bare address)
// may authenticate as the agent: always without an allow-list, else when an entry holds the address (an
// IPv4 address connecting over IPv6 as ::ffff:a.b.c.d counts as the IPv4 address).
func (a *Agent) Allows(addr string) bool {
	if a.AllowedIPs == "" {
		return true
	}
	ip, ok := parseRemote(addr)
	if !ok {
		return false
	}
	for _, entry := range a.IPs() {
		if p, err := netip.ParsePrefix(entry); err == nil {
			if p.Contains(ip) {
				return true
			}
		} else if e, err := netip.ParseAddr(entry); err == nil && e == ip {
			return true
		}
	}
	return false
}

func parseRemote(addr string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if ip, err := netip.ParseAddr(addr); err == nil {
		return ip.Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

var digits = regexp.MustCompile(`^[0-9]{1,20}$`)

func accountNotFound(id int64) error {
	return models.Errorf(models.NotFound, "Accolades account %d not found", id)
}

func agentNotFound(id int64) error {
	return models.Errorf(models.NotFound, "Accolades agent %d not found", id)
}

func checkText(field, v string, max int) error {
	if utf8.RuneCountInString(v) > max {
		return models.Errorf(models.Invalid, "%s must have at most %d characters", field, max)
	}
	return nil
}

// AccountInput is a new account. Name and Data may be empty.
type AccountInput struct {
	AccountNumber, Name, Password, Data string
}

// CreateAccount stores a new account with its password's bcrypt hash; a taken account number is a Conflict.
func CreateAccount(ctx context.Context, db *gorm.DB, in AccountInput) (*Account, error) {
	if !digits.MatchString(in.AccountNumber) {
		return nil, models.Errorf(models.Invalid, "account_number %q: want 1 to 20 digits", in.AccountNumber)
	}
	if len(in.Password) < MinPassword || len(in.Password) > MaxPassword {
		return nil, models.Errorf(models.Invalid, "password must have %d to %d bytes", MinPassword, MaxPassword)
	}
	if err := errors.Join(checkText("name", in.Name, MaxName), checkText("data", in.Data, MaxData)); err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	a := &Account{AccountNumber: in.AccountNumber, Name: in.Name, PasswordHash: hash, Data: in.Data, CreatedAt: time.Now().Unix()}
	taken := func() error {
		return models.Errorf(models.Conflict, "an Accolades account numbered %s exists already", in.AccountNumber)
	}
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&Account{}).Where("account_number = ?", in.AccountNumber).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return taken()
		}
		return tx.Create(a).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) { // a concurrent create won the race
		return nil, taken()
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// ListAccounts answers one page of accounts in id order.
func ListAccounts(ctx context.Context, db *gorm.DB, lq models.ListQuery) (models.PageOf[Account], error) {
	return models.List(ctx, db.Model(&Account{}), "id", lq, func(a *Account) int64 { return a.ID })
}

// GetAccount loads account id.
func GetAccount(ctx context.Context, db *gorm.DB, id int64) (*Account, error) {
	return lockAccount(db.WithContext(ctx), id, "")
}

// FindAccount loads the account numbered number (NotFound when none is).
func FindAccount(ctx context.Context, db *gorm.DB, number string) (*Account, error) {
	return models.TakeOne[Account](db.WithContext(ctx).Where("account_number = ?", number),
		func() error { return models.Errorf(models.NotFound, "Accolades account %s not found", number) })
}

// lockAccount reads account id inside tx, locked on Postgres with strength ("" none): SHARE by an agent's
// create, UPDATE by the account's delete, so no agent is created in an account deleted meanwhile (SQLite's
// write transactions take turns anyway).
func lockAccount(tx *gorm.DB, id int64, strength string) (*Account, error) {
	q := tx.Model(&Account{})
	if strength != "" && models.IsPostgres(tx) {
		q = q.Clauses(clause.Locking{Strength: strength})
	}
	return models.TakeOne[Account](q.Where("id = ?", id), func() error { return accountNotFound(id) })
}

// DeleteAccount deletes an account without agents; one that still has agents is a Conflict (deleting an
// account is never a way to disconnect its CRMs by accident).
func DeleteAccount(ctx context.Context, db *gorm.DB, id int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a, err := lockAccount(tx, id, "UPDATE")
		if err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&Agent{}).Where("account_id = ?", id).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return models.Errorf(models.Conflict, "Accolades account %s still has %d agents: delete them first", a.AccountNumber, n)
		}
		return tx.Where("id = ?", id).Delete(&Account{}).Error
	})
}

// AgentInput is a new agent. CrmID empty (what the platform API sends) has the server generate one; the
// demo seeds known ones.
type AgentInput struct {
	Name, DeviceID, Data, PhoneData, CrmID string
	AllowedIPs                             []string
}

// NewCrmID answers a fresh CRM id: 20 lower-case hex digits, the alphabet of the document's `f8cb549544`
// and twice its length, since the id is the socket's whole credential (80 random bits).
func NewCrmID() (string, error) {
	b := make([]byte, crmIDBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

var crmIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// normalizeIPs checks an allow-list and answers it canonical and comma-joined: addresses unmapped
// (::ffff:192.0.2.1 is 192.0.2.1), prefixes masked (10.1.2.3/8 is 10.0.0.0/8), duplicates dropped.
func normalizeIPs(list []string) (string, error) {
	if len(list) > MaxAllowedIPs {
		return "", models.Errorf(models.Invalid, "allowed_ips has %d entries, at most %d", len(list), MaxAllowedIPs)
	}
	seen := map[string]bool{}
	var out []string
	for _, raw := range list {
		s := strings.TrimSpace(raw)
		var canon string
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil || p.Addr().Zone() != "" {
				return "", models.Errorf(models.Invalid, "allowed_ips: %q is not an IP address or CIDR prefix", raw)
			}
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			canon = p.Masked().String()
		} else {
			a, err := netip.ParseAddr(s)
			if err != nil || a.Zone() != "" {
				return "", models.Errorf(models.Invalid, "allowed_ips: %q is not an IP address or CIDR prefix", raw)
			}
			canon = a.Unmap().String()
		}
		if !seen[canon] {
			seen[canon] = true
			out = append(out, canon)
		}
	}
	return strings.Join(out, ","), nil
}

// CreateAgent stores a new agent of account accountID with a generated CRM id (unless in names one). A
// device id another agent has is a Conflict, an account that does not exist NotFound.
func CreateAgent(ctx context.Context, db *gorm.DB, accountID int64, in AgentInput) (*Agent, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" || utf8.RuneCountInString(name) > MaxName {
		return nil, models.Errorf(models.Invalid, "name must have 1 to %d characters", MaxName)
	}
	if !digits.MatchString(in.DeviceID) {
		return nil, models.Errorf(models.Invalid, "device_id %q: want 1 to 20 digits", in.DeviceID)
	}
	if err := errors.Join(checkText("data", in.Data, MaxData), checkText("phone_data", in.PhoneData, MaxData)); err != nil {
		return nil, err
	}
	ips, err := normalizeIPs(in.AllowedIPs)
	if err != nil {
		return nil, err
	}
	crm := in.CrmID
	if crm == "" {
		if crm, err = NewCrmID(); err != nil {
			return nil, err
		}
	} else if !crmIDPattern.MatchString(crm) {
		return nil, models.Errorf(models.Invalid, "crm id %q: want 1 to 64 letters, digits, - or _", crm)
	}
	a := &Agent{AccountID: accountID, Name: name, CrmID: crm, DeviceID: in.DeviceID, AllowedIPs: ips, Data: in.Data,
		PhoneData: in.PhoneData, CreatedAt: time.Now().Unix()}
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := lockAccount(tx, accountID, "SHARE"); err != nil {
			return err
		}
		var taken []Agent
		if err := tx.Select("device_id", "crm_id").Where("device_id = ? OR crm_id = ?", a.DeviceID, a.CrmID).Limit(2).Find(&taken).Error; err != nil {
			return err
		}
		if slices.ContainsFunc(taken, func(t Agent) bool { return t.DeviceID == a.DeviceID }) {
			return models.Errorf(models.Conflict, "device %s is another agent's phone", a.DeviceID)
		}
		if len(taken) > 0 {
			return models.Errorf(models.Conflict, "CRM id %s is another agent's", a.CrmID)
		}
		return tx.Create(a).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) { // a concurrent create won the race
		return nil, models.Wrap(models.Conflict, err, "device "+a.DeviceID+" or the CRM id is another agent's")
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// ListAgents answers one page of the agents of account accountID (which must exist) in id order.
func ListAgents(ctx context.Context, db *gorm.DB, accountID int64, lq models.ListQuery) (models.PageOf[Agent], error) {
	if _, err := GetAccount(ctx, db, accountID); err != nil {
		return models.PageOf[Agent]{}, err
	}
	return models.List(ctx, db.Model(&Agent{}).Where("account_id = ?", accountID), "id", lq, func(a *Agent) int64 { return a.ID })
}

// GetAgent loads agent id of account accountID; another account's agent is NotFound.
func GetAgent(ctx context.Context, db *gorm.DB, accountID, id int64) (*Agent, error) {
	return models.TakeOne[Agent](db.WithContext(ctx).Where("account_id = ? AND id = ?", accountID, id),
		func() error { return agentNotFound(id) })
}

// DeleteAgent deletes agent id of account accountID and its lease, in one transaction: the node holding
// the agent's connection finds the lease gone at its next heartbeat and closes the connection.
func DeleteAgent(ctx context.Context, db *gorm.DB, accountID, id int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a, err := GetAgent(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		if err := tx.Where("crm_id = ?", a.CrmID).Delete(&lease{}).Error; err != nil {
			return err
		}
		res := tx.Where("id = ?", id).Delete(&Agent{})
		if res.Error == nil && res.RowsAffected == 0 {
			return agentNotFound(id) // deleted meanwhile
		}
		return res.Error
	})
}

// Session is what a CRM's connection needs of its agent: the agent and its account.
type Session struct {
	Agent   Agent
	Account Account
}

// FindByCrmID loads the agent whose CRM id is crm and its account (NotFound when there is none).
func FindByCrmID(ctx context.Context, db *gorm.DB, crm string) (*Session, error) {
	var s Session
	err := db.WithContext(ctx).Where("crm_id = ?", crm).Take(&s.Agent).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.Errorf(models.NotFound, "no agent has CRM id %s", crm)
	}
	if err != nil {
		return nil, err
	}
	if err := db.WithContext(ctx).Where("id = ?", s.Agent.AccountID).Take(&s.Account).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.Errorf(models.NotFound, "no agent has CRM id %s", crm)
	} else if err != nil {
		return nil, err
	}
	return &s, nil
}

// FindByDevice loads the agent of account accountID whose phone is device deviceID.
func FindByDevice(ctx context.Context, db *gorm.DB, accountID int64, deviceID string) (*Agent, error) {
	return models.TakeOne[Agent](db.WithContext(ctx).Where("account_id = ? AND device_id = ?", accountID, deviceID),
		func() error { return models.Errorf(models.NotFound, "no device %s in this account", deviceID) })
}

// isUniqueID tells whether s is the document's `uniqueId`: "number.number", at most 20 and 11 digits (by
// hand: it runs once per call pushed, in the burst a CRM hub delivers).
func isUniqueID(s string) bool {
	whole, frac, ok := strings.Cut(s, ".")
	return ok && allDigits(whole, 20) && allDigits(frac, 11)
}

func allDigits(s string, most int) bool {
	if s == "" || len(s) > most {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// CallID answers the Accolades `uniqueId` of a call-event unique id: the id itself when it is the
// document's number.number already (as the platform API's example 1608743891.1344), else two numbers
// derived from its SHA-256 (a uContact GUID: ambiguity 33), so one call always has one uniqueId, on every
// node and in every message that names it.
func CallID(uniqueID string) string {
	if isUniqueID(uniqueID) {
		return uniqueID
	}
	h := sha256.Sum256([]byte(uniqueID))
	return fmt.Sprintf("%d.%d", binary.BigEndian.Uint32(h[0:4]), binary.BigEndian.Uint32(h[4:8]))
}
