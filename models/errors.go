package models

import "errors"

// Sentinel errors; queries wrap them with what was asked for (fmt.Errorf("contact %d: %w", id, ErrNotFound)).
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
)
