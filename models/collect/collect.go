// Package collect holds the rows of the Collect! API (openapi/collect.yaml): its databases (the
// x-collect-database names), their operators and the operators' login sessions. Every Collect! row carries
// its database's id, and every query of one goes through a Scope (DESIGN §4): one database never sees
// another's rows.
package collect

import (
	"context"
	"errors"
	"regexp"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard/auth"
	"switchboard/models"
)

// DefaultDatabase is the database of a request without x-collect-database (the vendor's single database).
const DefaultDatabase = "cv_masterdb"

// Scope is one Collect! database. Every query of a Collect! row starts from Scope.Query, which adds the
// WHERE on database_id (qualified by the query's own table, so joins cannot make it ambiguous), and every
// row a Scope creates is stamped with its id. A zero Scope matches nothing (ids start at 1).
type Scope struct{ DatabaseID int64 }

// Query starts a query of model's table limited to the scope's database.
func (s Scope) Query(ctx context.Context, db *gorm.DB, model any) *gorm.DB {
	return db.WithContext(ctx).Model(model).
		Where(clause.Eq{Column: clause.Column{Table: clause.CurrentTable, Name: "database_id"}, Value: s.DatabaseID})
}

// Database is a row of collect_databases (migration step 17).
type Database struct {
	ID        int64 `gorm:"primaryKey;column:id"`
	Name      string
	CreatedAt int64
}

// TableName is the table of Collect! databases.
func (Database) TableName() string { return "collect_databases" }

// Scope answers the database's scope.
func (d *Database) Scope() Scope { return Scope{DatabaseID: d.ID} }

// Operator is a row of collect_operators: Collect!'s nx_operator, with OpID the login.
type Operator struct {
	ID           int64 `gorm:"primaryKey;column:id"`
	DatabaseID   int64
	OpID         string `gorm:"column:op_id"`
	OpName       string `gorm:"column:op_name"`
	OpLevel      int32  `gorm:"column:op_level"`
	OpFunction   int32  `gorm:"column:op_function"`
	PasswordHash string
	Active       bool
	CreatedAt    int64
	UpdatedAt    int64
}

// TableName is the table of Collect! operators.
func (Operator) TableName() string { return "collect_operators" }

// databaseName is what x-collect-database accepts (openapi/collect.yaml, CollectDatabase).
var databaseName = regexp.MustCompile(`^cv_[A-Za-z0-9_]{1,60}$`)

func databaseNotFound(id int64) error {
	return models.Errorf(models.NotFound, "Collect! database %d not found", id)
}

func operatorNotFound(id int64) error {
	return models.Errorf(models.NotFound, "Collect! operator %d not found", id)
}

// CreateDatabase stores a new database; a taken name is a Conflict.
func CreateDatabase(ctx context.Context, db *gorm.DB, name string) (*Database, error) {
	if !databaseName.MatchString(name) {
		return nil, models.Errorf(models.Invalid, "database name %q: want cv_ and 1 to 60 letters, digits or _", name)
	}
	d := &Database{Name: name, CreatedAt: time.Now().Unix()}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&Database{}).Where("name = ?", name).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return models.Errorf(models.Conflict, "a Collect! database named %q exists already", name)
		}
		return tx.Create(d).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) { // a concurrent create won the race
		return nil, models.Wrap(models.Conflict, err, "a Collect! database named "+name+" exists already")
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// ListDatabases answers one page of databases in id order.
func ListDatabases(ctx context.Context, db *gorm.DB, lq models.ListQuery) (models.PageOf[Database], error) {
	return models.List(ctx, db.Model(&Database{}), "id", lq, func(d *Database) int64 { return d.ID })
}

// GetDatabase loads database id.
func GetDatabase(ctx context.Context, db *gorm.DB, id int64) (*Database, error) {
	return lockDatabase(db.WithContext(ctx), id, "")
}

// FindDatabase loads the database named name (NotFound when none is).
func FindDatabase(ctx context.Context, db *gorm.DB, name string) (*Database, error) {
	return models.TakeOne[Database](db.WithContext(ctx).Where("name = ?", name),
		func() error { return models.Errorf(models.NotFound, "Collect! database %s not found", name) })
}

// DeleteDatabase deletes an empty database. One that still has operators or record definitions is a
// Conflict: deleting a database is never a way to lose its operators or records by accident.
func DeleteDatabase(ctx context.Context, db *gorm.DB, id int64) error {
	return revoking(ctx, db, func(tx *gorm.DB) error {
		d, err := lockDatabase(tx, id, "UPDATE")
		if err != nil {
			return err
		}
		// What a database holds is never lost by deleting it: each kind is deleted first, on its own.
		for _, held := range []struct {
			model any
			what  string
		}{{&Operator{}, "operators"}, {&RecordDef{}, "record definitions"}, {&Plan{}, "contact plans"}, {&Form{}, "forms"}} {
			var n int64
			if err := d.Scope().Query(ctx, tx, held.model).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return models.Errorf(models.Conflict, "Collect! database %s still has %d %s: delete them first", d.Name, n, held.what)
			}
		}
		if err := d.Scope().Query(ctx, tx, &Job{}).Delete(&Job{}).Error; err != nil {
			return err
		}
		if err := d.Scope().Query(ctx, tx, &session{}).Delete(&session{}).Error; err != nil {
			return err
		}
		return tx.Where("id = ?", id).Delete(&Database{}).Error
	})
}

// lockDatabase reads database id inside tx, locked on Postgres with strength ("" none): SHARE by a write
// of one of its operators, UPDATE by its delete, so an operator is never created in a database deleted
// meanwhile (SQLite's write transactions take turns anyway).
func lockDatabase(tx *gorm.DB, id int64, strength string) (*Database, error) {
	q := tx.Model(&Database{})
	if strength != "" && models.IsPostgres(tx) {
		q = q.Clauses(clause.Locking{Strength: strength})
	}
	return models.TakeOne[Database](q.Where("id = ?", id), func() error { return databaseNotFound(id) })
}

// OperatorFields are an operator's writable fields; nil leaves one as it is (on create: OpID and
// Password are required, OpName empty, levels 0, active).
type OperatorFields struct {
	OpID, OpName, Password *string
	OpLevel, OpFunction    *int32
	Active                 *bool
}

func (f OperatorFields) check() error {
	if f.OpID != nil && (*f.OpID == "" || utf8.RuneCountInString(*f.OpID) > 32) {
		return models.Errorf(models.Invalid, "op_id must have 1 to 32 characters")
	}
	if f.OpName != nil && utf8.RuneCountInString(*f.OpName) > 255 {
		return models.Errorf(models.Invalid, "op_name must have at most 255 characters")
	}
	if f.Password != nil && (*f.Password == "" || len(*f.Password) > 72) {
		return models.Errorf(models.Invalid, "password must have 1 to 72 bytes")
	}
	for name, v := range map[string]*int32{"op_level": f.OpLevel, "op_function": f.OpFunction} {
		if v != nil && *v < 0 {
			return models.Errorf(models.Invalid, "%s must not be negative", name)
		}
	}
	return nil
}

// apply sets the fields f gives on o, hashing a password.
func (f OperatorFields) apply(o *Operator) error {
	if f.Password != nil {
		h, err := auth.HashPassword(*f.Password)
		if err != nil {
			return err
		}
		o.PasswordHash = h
	}
	if f.OpID != nil {
		o.OpID = *f.OpID
	}
	if f.OpName != nil {
		o.OpName = *f.OpName
	}
	if f.OpLevel != nil {
		o.OpLevel = *f.OpLevel
	}
	if f.OpFunction != nil {
		o.OpFunction = *f.OpFunction
	}
	if f.Active != nil {
		o.Active = *f.Active
	}
	return nil
}

// CreateOperator stores a new operator in the scope's database; an op_id the database has already is a
// Conflict, a database that does not exist NotFound.
func CreateOperator(ctx context.Context, db *gorm.DB, s Scope, f OperatorFields) (*Operator, error) {
	if f.OpID == nil || f.Password == nil {
		return nil, models.Errorf(models.Invalid, "op_id and password are required")
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	now := time.Now().Unix()
	o := &Operator{DatabaseID: s.DatabaseID, Active: true, CreatedAt: now, UpdatedAt: now}
	if err := f.apply(o); err != nil {
		return nil, err
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := lockDatabase(tx, s.DatabaseID, "SHARE"); err != nil {
			return err
		}
		if err := checkOpID(ctx, tx, s, o); err != nil {
			return err
		}
		return tx.Create(o).Error
	})
	if err != nil {
		return nil, opIDTaken(err, o.OpID)
	}
	return o, nil
}

// checkOpID answers a Conflict when another operator of the database has o's op_id (the unique index stays
// the guard against a race: see opIDTaken).
func checkOpID(ctx context.Context, tx *gorm.DB, s Scope, o *Operator) error {
	var n int64
	if err := s.Query(ctx, tx, &Operator{}).Where("op_id = ? AND id <> ?", o.OpID, o.ID).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return models.Errorf(models.Conflict, "the database has an operator %q already", o.OpID)
	}
	return nil
}

func opIDTaken(err error, opID string) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return models.Wrap(models.Conflict, err, "the database has an operator "+opID+" already")
	}
	return err
}

// ListOperators answers one page of the scope's operators in id order.
func ListOperators(ctx context.Context, db *gorm.DB, s Scope, lq models.ListQuery) (models.PageOf[Operator], error) {
	return models.List(ctx, s.Query(ctx, db, &Operator{}), "id", lq, func(o *Operator) int64 { return o.ID })
}

// GetOperator loads operator id of the scope's database; another database's operator is NotFound.
func GetOperator(ctx context.Context, db *gorm.DB, s Scope, id int64) (*Operator, error) {
	return models.TakeOne[Operator](s.Query(ctx, db, &Operator{}).Where("id = ?", id),
		func() error { return operatorNotFound(id) })
}

// FindOperator loads the operator whose op_id is opID in the scope's database (NotFound when none is).
func FindOperator(ctx context.Context, db *gorm.DB, s Scope, opID string) (*Operator, error) {
	return models.TakeOne[Operator](s.Query(ctx, db, &Operator{}).Where("op_id = ?", opID),
		func() error { return models.Errorf(models.NotFound, "Collect! operator %s not found", opID) })
}

// UpdateOperator changes the fields f sets. A new password or a deactivation ends the operator's sessions
// (its tokens answer 401 from then on, on every node).
func UpdateOperator(ctx context.Context, db *gorm.DB, s Scope, id int64, f OperatorFields) (*Operator, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	var o *Operator
	opID := ""
	if f.OpID != nil {
		opID = *f.OpID
	}
	// Revoking: a session's lookup carries its operator, whatever changes.
	err := revoking(ctx, db, func(tx *gorm.DB) error {
		if _, err := lockDatabase(tx, s.DatabaseID, "SHARE"); err != nil {
			return err
		}
		var err error
		if o, err = GetOperator(ctx, tx, s, id); err != nil {
			return err
		}
		if err := f.apply(o); err != nil {
			return err
		}
		if f.OpID != nil {
			if err := checkOpID(ctx, tx, s, o); err != nil {
				return err
			}
		}
		o.UpdatedAt = time.Now().Unix()
		res := s.Query(ctx, tx, &Operator{}).Where("id = ?", id).Updates(map[string]any{
			"op_id": o.OpID, "op_name": o.OpName, "op_level": o.OpLevel, "op_function": o.OpFunction,
			"password_hash": o.PasswordHash, "active": o.Active, "updated_at": o.UpdatedAt})
		if res.Error != nil {
			return res.Error
		}
		if f.Password != nil || !o.Active {
			return endSessions(ctx, tx, s, id)
		}
		return nil
	})
	if err != nil {
		return nil, opIDTaken(err, opID)
	}
	return o, nil
}

// DeleteOperator deletes the operator with its sessions, in one transaction.
func DeleteOperator(ctx context.Context, db *gorm.DB, s Scope, id int64) error {
	return revoking(ctx, db, func(tx *gorm.DB) error {
		if _, err := lockDatabase(tx, s.DatabaseID, "SHARE"); err != nil {
			return err
		}
		res := s.Query(ctx, tx, &Operator{}).Where("id = ?", id).Delete(&Operator{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return operatorNotFound(id)
		}
		return endSessions(ctx, tx, s, id)
	})
}
