package ictcore

import (
	"context"

	"gorm.io/gorm"

	"switchboard/models"
)

// Provider is a delivery trunk (migration step 6): which gateway carries a service, and how to reach it.
// Providers are an admin's; no user owns one.
type Provider struct {
	ID          int64 `gorm:"primaryKey;column:provider_id"`
	Name        string
	Type        string // sip, smpp, http, smtp, emailcmd
	ServiceFlag int    // bitmask: 1 voice, 2 fax, 4 SMS, 8 e-mail
	GatewayFlag int    // the guide's gateway_flag, kept as given (step 11); delivery follows Type
	NodeID      int64
	Host        string
	Port        int
	Username    string
	Password    string // write-only in the API; the gateway needs it as it is
	Dialstring  string
	Prefix      string
	Settings    string
	Description string
	Register    int
	Weight      int
	Active      int
	CreatedAt   int64
	UpdatedAt   int64
}

var providers = table{"providers", "provider_id", "provider"}

// DefaultServiceFlag is what a provider of type offers when its create names no service_flag.
func DefaultServiceFlag(typ string) int {
	switch typ {
	case "sip":
		return 3
	case "smpp", "http":
		return 4
	}
	return 8 // smtp, emailcmd
}

// ProviderFilter is the whitelist of the provider list's parameters.
type ProviderFilter struct {
	ID, NodeID  *int64
	Name, Host  *string
	Type        *string
	Active      *int
	ServiceFlag *int // providers offering every service of the mask
	models.ListQuery
}

// CreateProvider stores p and sets its id.
func CreateProvider(ctx context.Context, db *gorm.DB, p *Provider) error {
	p.ID = 0
	if p.ServiceFlag == 0 {
		p.ServiceFlag = DefaultServiceFlag(p.Type)
	}
	stamp(&p.CreatedAt, &p.UpdatedAt)
	return db.WithContext(ctx).Create(p).Error
}

// GetProvider loads a provider.
func GetProvider(ctx context.Context, db *gorm.DB, id int64) (*Provider, error) {
	return getOwned[Provider](ctx, db, providers, AnyOwner, id)
}

// UpdateProvider lets change edit the provider (and refuse the result) and saves it.
func UpdateProvider(ctx context.Context, db *gorm.DB, id int64, change func(*Provider) error) (*Provider, error) {
	return updateOwned(ctx, db, providers, AnyOwner, id, func(p *Provider) error { return touched(change(p), &p.UpdatedAt) })
}

// DeleteProvider deletes a provider.
func DeleteProvider(ctx context.Context, db *gorm.DB, id int64) error {
	return deleteOwned(ctx, db, providers, AnyOwner, id, nil)
}

// ListProviders answers a page of providers (exact filters; service_flag as a mask, as ICTCore does).
func ListProviders(ctx context.Context, db *gorm.DB, f ProviderFilter) (models.PageOf[Provider], error) {
	var mask models.Where
	if f.ServiceFlag != nil {
		m := *f.ServiceFlag
		mask = func(q *gorm.DB) *gorm.DB { return q.Where("(service_flag & ?) = ?", m, m) }
	}
	return listOwned(ctx, db, providers, AnyOwner, f.ListQuery, func(p *Provider) int64 { return p.ID },
		models.Equal("provider_id", f.ID), models.Equal("node_id", f.NodeID), models.Equal("name", f.Name),
		models.Equal("host", f.Host), models.Equal("type", f.Type), models.Equal("active", f.Active), mask)
}

// DeliveryProvider answers the provider that carries service (a service_flag bit) now: the active one
// offering it with the lowest weight (the oldest among equals), or nil when none does.
func DeliveryProvider(ctx context.Context, db *gorm.DB, service int) (*Provider, error) {
	var ps []Provider
	err := db.WithContext(ctx).Table(providers.name).Where("active = 1 AND (service_flag & ?) = ?", service, service).
		Order("weight, provider_id").Limit(1).Find(&ps).Error
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	return &ps[0], nil
}
