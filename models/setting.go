package models

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Setting is one server-wide value kept in the store, such as the token-signing secret.
type Setting struct {
	Name  string `gorm:"primaryKey"`
	Value string
}

// GetOrCreateSetting answers the stored value of name, storing make() first if there is none. Two nodes
// that start together agree on one value: the insert does nothing when the row already exists.
func GetOrCreateSetting(ctx context.Context, db *gorm.DB, name string, make func() (string, error)) (string, error) {
	db = db.WithContext(ctx)
	var s Setting
	err := db.Where("name = ?", name).Take(&s).Error
	if err == nil {
		return s.Value, nil
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return "", err
	}
	v, err := make()
	if err != nil {
		return "", err
	}
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&Setting{Name: name, Value: v}).Error; err != nil {
		return "", fmt.Errorf("setting %s: %w", name, err)
	}
	if err := db.Where("name = ?", name).Take(&s).Error; err != nil {
		return "", err
	}
	return s.Value, nil
}
