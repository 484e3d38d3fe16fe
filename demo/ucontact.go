package demo

import (
	"context"
	"fmt"
	"io"

	"gorm.io/gorm"

	"switchboard/models"
	"switchboard/models/ucontact"
)

// The uContact demo: a supervisor who logs in with UserLogin, an agent (the Agent API page's "9999",
// John Doe) who logs in with AgentLogin, and the campaigns the README's calls and SMS name.
const (
	UContactSupervisor = "Supervisor"
	UContactPassword   = "supervisor"
	UContactAgent      = "9999"
	UContactAgentPw    = "agent"
	UContactCampaign   = "Salida->"
	UContactSMS        = "SMS->"
)

// SeedUContact adds what is missing of the uContact demo and reports each step to out.
func SeedUContact(ctx context.Context, db *gorm.DB, out io.Writer) error {
	for _, u := range []ucontact.UserInput{
		{Name: UContactSupervisor, Role: ucontact.RoleSupervisor, Password: UContactPassword, Fullname: "Demo Supervisor"},
		{Name: UContactAgent, Role: ucontact.RoleAgent, Password: UContactAgentPw, Fullname: "John Doe", Phone: "9999"},
	} {
		if _, err := ucontact.FindUser(ctx, db, u.Name); err == nil {
			continue
		} else if models.KindOf(err) != models.NotFound {
			return err
		}
		if _, err := ucontact.CreateUser(ctx, db, u); err != nil {
			return err
		}
		fmt.Fprintf(out, "uContact %s %s, password %q (demo only)\n", u.Role, u.Name, u.Password)
	}
	for _, c := range []struct{ name, channel, callerid string }{
		{UContactCampaign, ucontact.ChannelTelephony, "24000000"}, {UContactSMS, ucontact.ChannelSMS, "24000000"},
	} {
		_, err := ucontact.CreateCampaign(ctx, db, c.name, c.channel, c.callerid)
		if models.KindOf(err) == models.Conflict {
			continue // there already
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "uContact %s campaign %s\n", c.channel, c.name)
	}
	return nil
}
