package models

import (
	"context"
	"database/sql"
	"sync"

	"gorm.io/gorm"
)

// QueryRow runs a fixed single-row read through a statement prepared once per pool and reused on each of
// its connections. SQLite otherwise parses and plans the statement on every call: on GET /contacts/{id}
// that was most of the engine's time (the bench profile). Inside a transaction (ConnPool is not the pool)
// it runs the query as it is. query must be a constant of the code: statements live as long as the pool.
func QueryRow(ctx context.Context, db *gorm.DB, query string, args ...any) *sql.Row {
	if pool, ok := db.Statement.ConnPool.(*sql.DB); ok {
		if st, err := prepared(ctx, pool, query); err == nil {
			return st.QueryRowContext(ctx, args...)
		}
	}
	return db.Statement.ConnPool.QueryRowContext(ctx, query, args...)
}

type stmtKey struct {
	pool  *sql.DB
	query string
}

var (
	stmtMu sync.Mutex
	stmts  = map[stmtKey]*sql.Stmt{}
)

func prepared(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, error) {
	k := stmtKey{pool, query}
	stmtMu.Lock()
	defer stmtMu.Unlock()
	if st, ok := stmts[k]; ok {
		return st, nil
	}
	st, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	stmts[k] = st
	return st, nil
}

// forgetStatements closes and drops the statements of a pool being closed.
func forgetStatements(pool *sql.DB) {
	stmtMu.Lock()
	defer stmtMu.Unlock()
	for k, st := range stmts {
		if k.pool == pool {
			_ = st.Close()
			delete(stmts, k)
		}
	}
}
