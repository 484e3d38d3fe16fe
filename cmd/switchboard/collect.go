package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"gorm.io/gorm"

	"switchboard/auth"
	"switchboard/models/collect"
)

const collectUsage = "usage: switchboard collect add-database NAME | switchboard collect add-operator DATABASE OP_ID [NAME]"

// collectCmd adds Collect! databases and operators: how the first ones are made, before any API key.
func collectCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, db *gorm.DB) error {
	switch {
	case len(args) == 2 && args[0] == "add-database":
		d, err := collect.CreateDatabase(ctx, db, args[1])
		if err != nil {
			return fmt.Errorf("collect add-database: %w", err)
		}
		fmt.Fprintf(stdout, "Collect! database %s (id %d)\n", d.Name, d.ID)
		return nil
	case (len(args) == 3 || len(args) == 4) && args[0] == "add-operator":
		return addOperator(ctx, args[1:], getenv, stdout, db)
	}
	return errors.New(collectUsage)
}

// addOperator adds an active operator to a database; the password comes from SWITCHBOARD_OPERATOR_PASSWORD
// or is generated and printed, the one time it is shown.
func addOperator(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, db *gorm.DB) error {
	d, err := collect.FindDatabase(ctx, db, args[0])
	if err != nil {
		return fmt.Errorf("collect add-operator: %w", err)
	}
	opID, name := args[1], ""
	if len(args) == 3 {
		name = args[2]
	}
	pw := getenv("SWITCHBOARD_OPERATOR_PASSWORD")
	generated := pw == ""
	if generated {
		if pw, err = auth.RandomSecret(12); err != nil {
			return err
		}
	}
	o, err := collect.CreateOperator(ctx, db, d.Scope(), collect.OperatorFields{OpID: &opID, OpName: &name, Password: &pw})
	if err != nil {
		return fmt.Errorf("collect add-operator: %w", err)
	}
	fmt.Fprintf(stdout, "Collect! operator %s of %s (op_rowid %d)\n", o.OpID, d.Name, o.ID)
	if generated {
		fmt.Fprintf(stdout, "password for %s: %s (shown once)\n", o.OpID, pw)
	}
	return nil
}
