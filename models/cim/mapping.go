package cim

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"switchboard/models"
)

// Sources of a mapping condition's call data (ambiguity 26).
const (
	SourceANI          = "ani"          // the caller's number
	SourceCallVariable = "callVariable" // peripheral call variable callVariableN, N = varNumber
	SourceECCVariable  = "eccVariable"  // expanded call context variable named by callVariable
)

// Mapping is a row of cim_mappings: one condition of the search criteria that find the contact of a call.
type Mapping struct {
	ID           int64  `gorm:"primaryKey;column:id"`
	CallVar      string // SourceANI, SourceCallVariable or SourceECCVariable
	CallVariable string // the ECC variable's name (eccVariable), a display name (callVariable)
	VarNumber    string // N of callVariableN, "1".."10" (callVariable)
	Key          string `gorm:"column:attr_key"` // an attribute key as stored, or KeyPhone
	KeyFold      string
	CreatedAt    int64
}

// TableName is the table of mapping conditions.
func (Mapping) TableName() string { return "cim_mappings" }

// MappingInput is a condition as a client sends it; empty strings are absent.
type MappingInput struct {
	CallVar, CallVariable, VarNumber, Key string
}

// Variable answers the name of the call-event variable a condition reads, or "" for the ANI.
func (m *Mapping) Variable() string {
	switch m.CallVar {
	case SourceCallVariable:
		return "callVariable" + m.VarNumber
	case SourceECCVariable:
		return m.CallVariable
	}
	return ""
}

// check validates a condition and answers the key as the schema spells it (KeyPhone for every phone
// attribute). It share-locks the attribute on Postgres, so it cannot be deleted under the write.
func (in MappingInput) check(tx *gorm.DB) (string, error) {
	switch in.CallVar {
	case SourceANI:
	case SourceCallVariable:
		if n, err := strconv.Atoi(in.VarNumber); err != nil || n < 1 || n > 10 || strconv.Itoa(n) != in.VarNumber {
			return "", models.Errorf(models.Invalid, "callVar callVariable needs varNumber, the N of callVariableN (1 to 10)")
		}
	case SourceECCVariable:
		if in.CallVariable == "" {
			return "", models.Errorf(models.Invalid, "callVar eccVariable needs callVariable, the name of the ECC variable")
		}
	default:
		return "", models.Errorf(models.Invalid, "callVar %q: want ani, callVariable or eccVariable", in.CallVar)
	}
	if strings.EqualFold(in.Key, KeyPhone) {
		return KeyPhone, nil
	}
	var a Attribute
	q := tx.Where("key_fold = ?", strings.ToLower(in.Key))
	if models.IsPostgres(tx) {
		q = q.Clauses(lockShare)
	}
	err := q.Take(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", models.Errorf(models.Invalid, "key %q is not phone nor an attribute of the contact schema (GET /getSchema lists them)", in.Key)
	}
	return a.Key, err
}

// ListMappings answers a page of the conditions in id order.
func ListMappings(ctx context.Context, db *gorm.DB, lq models.ListQuery) (models.PageOf[Mapping], error) {
	return models.List(ctx, db.Model(&Mapping{}), "id", lq, func(m *Mapping) int64 { return m.ID })
}

// AddMapping stores a condition. One condition per key: a second one is a Conflict.
func AddMapping(ctx context.Context, db *gorm.DB, in MappingInput) (*Mapping, error) {
	m := &Mapping{CallVar: in.CallVar, CallVariable: in.CallVariable, VarNumber: in.VarNumber}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		key, err := in.check(tx)
		if err != nil {
			return err
		}
		id, err := allocID(tx, kindMappings)
		if err != nil {
			return err
		}
		m.ID, m.Key, m.KeyFold, m.CreatedAt = id, key, strings.ToLower(key), now().Unix()
		if err := keyFree(tx, m.KeyFold, 0); err != nil {
			return err
		}
		return tx.Create(m).Error
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// UpdateMapping replaces condition id.
func UpdateMapping(ctx context.Context, db *gorm.DB, id int64, in MappingInput) (*Mapping, error) {
	var m Mapping
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Clauses(lockForUpdate(tx)...).Where("id = ?", id).Take(&m).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return notFound("mapping condition", id)
		} else if err != nil {
			return err
		}
		key, err := in.check(tx)
		if err != nil {
			return err
		}
		if err := keyFree(tx, strings.ToLower(key), id); err != nil {
			return err
		}
		m.CallVar, m.CallVariable, m.VarNumber, m.Key, m.KeyFold = in.CallVar, in.CallVariable, in.VarNumber, key, strings.ToLower(key)
		return tx.Model(&Mapping{}).Where("id = ?", id).Updates(map[string]any{"call_var": m.CallVar,
			"call_variable": m.CallVariable, "var_number": m.VarNumber, "attr_key": m.Key, "key_fold": m.KeyFold}).Error
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// keyFree refuses a key another condition than id uses.
func keyFree(tx *gorm.DB, keyFold string, id int64) error {
	var n int64
	if err := tx.Model(&Mapping{}).Where("key_fold = ? AND id <> ?", keyFold, id).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return models.Errorf(models.Conflict, "a mapping condition for key %q exists already", keyFold)
	}
	return nil
}

// DeleteMapping deletes condition id and answers it as it was.
func DeleteMapping(ctx context.Context, db *gorm.DB, id int64) (*Mapping, error) {
	var m Mapping
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Where("id = ?", id).Take(&m).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return notFound("mapping condition", id)
		} else if err != nil {
			return err
		}
		res := tx.Where("id = ?", id).Delete(&Mapping{})
		if res.Error == nil && res.RowsAffected == 0 {
			return notFound("mapping condition", id)
		}
		return res.Error
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}
