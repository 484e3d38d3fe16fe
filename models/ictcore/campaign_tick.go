package ictcore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard/callhours"
	"switchboard/models"
)

// The dialer runs a campaign as a chain of ticks, one job each. A tick, in one transaction, turns the
// next group contacts into transmissions (prepare), starts the attempts its pace allows (release), and
// queues the next tick; only the tick whose sequence number the campaign still holds does anything, so a
// stop, a restart or a job run twice ends the old chain. Pacing counts releases from PaceStart, so the
// number released by any moment is exact however late a tick runs: floor(cpm × minutes) + 1.

// Tick sizes: contacts prepared and transmissions released by one tick at most (a tick that hit either
// is followed by another at once). An unpaced campaign is released a tick at a time, so the release
// size bounds it: the campaign bench (100k contacts, cpm unlimited, Postgres) measured 3.4–4.5k
// transmissions/s releasing 1,000 a tick, with the cores up to three quarters idle between ticks, and
// 5.6–5.8k releasing 5,000.
const (
	PrepareBatch = 5000
	ReleaseBatch = 5000
)

// settleWait is the tick interval of a campaign with nothing left to release, waiting for its last
// attempts (and their retries) to end before it completes. Every campaign's completion waits up to this
// long; a look costs little (anyOpen), and the share bench's runs of 6–12 s gained with 250 ms over 1 s.
const settleWait = 250 * time.Millisecond

// Tick is what one tick did.
type Tick struct {
	Current  bool      // it was the campaign's current tick (else it did nothing)
	Prepared int       // transmissions created
	Released int       // attempts started
	Status   string    // the campaign's status after it
	Reason   string    // why the campaign broke
	Next     time.Time // when the next tick is due; zero: no next tick
}

// TickEnv is what a tick runs with.
type TickEnv struct {
	Now     time.Time
	Enqueue Enqueue
	Arm     ArmTick
	// Region reads national phone numbers (PHONE_DEFAULT_REGION, "PK"); Zone is the time zone of a
	// contact whose number tells none, for a calling window.
	Region, Zone string
}

// TickCampaign runs tick seq of campaign id.
func TickCampaign(ctx context.Context, db *gorm.DB, id, seq int64, env TickEnv) (Tick, error) {
	now, enqueue, arm := env.Now, env.Enqueue, env.Arm
	var out Tick
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		out = Tick{}
		q := tx.Table(campaigns.name).Where("campaign_id = ? AND tick_seq = ? AND status = ?", id, seq, CampaignRunning)
		if models.IsPostgres(tx) {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var c Campaign
		if err := q.Take(&c).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return nil // stopped, restarted, deleted, or this tick already ran
			}
			return err
		}
		out.Current = true
		if err := foldProgress(tx, &c); err != nil {
			return err
		}
		p, err := getOwned[Program](tx.Statement.Context, tx, programs, AnyOwner, deref(c.ProgramID))
		if models.KindOf(err) == models.NotFound {
			return breakCampaign(tx, &c, &out, fmt.Sprintf("program %d was deleted", deref(c.ProgramID)))
		}
		if err != nil {
			return err
		}
		if err := exists(tx, groups, AnyOwner, deref(c.GroupID)); models.KindOf(err) == models.NotFound {
			return breakCampaign(tx, &c, &out, fmt.Sprintf("group %d was deleted", deref(c.GroupID)))
		} else if err != nil {
			return err
		}

		if out.Prepared, err = prepareCampaign(tx, &c, p, env); err != nil {
			return err
		}
		// A calling window releases only the contacts whose local time is in it; the others wait.
		window, windowed := c.Window()
		var open []string
		var opens time.Time // when the next closed zone opens
		if windowed {
			open, opens = openZones(window, c.Zones, now)
		}
		elapsed := max(now.UnixMilli()-c.PaceStart, 0)
		allowed := int64(c.Cpm)*elapsed/60000 + 1
		want := min(allowed-c.PaceReleased, ReleaseBatch)
		if want > 0 && (!windowed || len(open) > 0) {
			if out.Released, err = releaseCampaign(tx, &c, int(want), now, enqueue, windowed, open); err != nil {
				return err
			}
		}
		c.PaceReleased += int64(out.Released)
		c.ContactDone += int64(out.Released)

		// short: it released all it could now. Whether any transmission is still pending matters only when
		// nothing new was prepared and either a window may hold some back or the pace released none.
		short := int64(out.Released) < want
		pending := true
		if out.Prepared == 0 && (short && windowed || want <= 0 && c.PreparedThrough > 0) {
			if pending, err = hasPending(tx, c.ID); err != nil {
				return err
			}
		}
		// No contact left to prepare and none pending (with a window, pending ones may only be waiting).
		exhausted := out.Prepared == 0 && short && (!windowed || !pending)
		switch {
		case out.Prepared == PrepareBatch || out.Released == ReleaseBatch:
			out.Next = now // more to do at once
		case windowed && short && !exhausted:
			// Released all the open zones had: the rest waits for its window.
			out.Next = now.Add(settleWait)
			if !opens.IsZero() {
				out.Next = later(opens, now)
			}
		case exhausted || want <= 0 && !pending:
			open, err := anyOpen(tx, c.ID)
			if err != nil {
				return err
			}
			if !open {
				// Contacts linked to the group after the cursor passed them are prepared now.
				late, err := prepareLate(tx, &c, p, env)
				if err != nil {
					return err
				}
				if late == 0 {
					// No tick follows a completion. A delivery that ended the last transmissions after this
					// tick's first fold committed its progress rows with them, so anyOpen saw them: fold again.
					if err := foldProgress(tx, &c); err != nil {
						return err
					}
					c.Status = CampaignCompleted
					break
				}
				out.Prepared += late
			}
			out.Next = now.Add(settleWait)
		default:
			// The next release is due when floor(cpm × elapsed / 60000) reaches PaceReleased.
			at := c.PaceStart + (c.PaceReleased*60000+int64(c.Cpm)-1)/int64(c.Cpm)
			out.Next = time.UnixMilli(max(at, now.UnixMilli()))
		}
		out.Status = c.Status
		c.TickSeq = seq + 1
		ts := now.Unix()
		if err := tx.Table(campaigns.name).Where("campaign_id = ?", c.ID).Updates(map[string]any{
			"status": c.Status, "prepared_through": c.PreparedThrough, "contact_total": c.ContactTotal, "zones": c.Zones,
			"contact_done": c.ContactDone, "pace_released": c.PaceReleased, "tick_seq": c.TickSeq, "last_run": ts,
			"updated_at": ts}).Error; err != nil {
			return err
		}
		if c.Status != CampaignRunning {
			out.Next = time.Time{}
			return nil
		}
		return arm(tx, &c, out.Next)
	})
	return out, err
}

// breakCampaign records that campaign c cannot run, and why; its chain ends.
func breakCampaign(tx *gorm.DB, c *Campaign, out *Tick, why string) error {
	out.Status, out.Reason = CampaignBroken, why
	return tx.Table(campaigns.name).Where("campaign_id = ?", c.ID).Updates(map[string]any{"status": CampaignBroken,
		"reason": clip(why, 255), "tick_seq": c.TickSeq + 1, "updated_at": time.Now().Unix()}).Error
}

// prepareCampaign turns the next PrepareBatch contacts of the campaign's group after its cursor into
// pending transmissions (one per contact and campaign: the unique index drops a second) and moves the
// cursor; it answers how many it created.
func prepareCampaign(tx *gorm.DB, c *Campaign, p *Program, env TickEnv) (int, error) {
	var found []Contact
	if err := tx.Raw(`SELECT contact_links.contact_id, contacts.phone FROM contact_links JOIN contacts ON contacts.contact_id = contact_links.contact_id
		WHERE contact_links.group_id = ? AND contact_links.contact_id > ? AND `+visibleSQL+`
		ORDER BY contact_links.contact_id LIMIT ?`, deref(c.GroupID), c.PreparedThrough, PrepareBatch).Scan(&found).Error; err != nil {
		return 0, err
	}
	if len(found) == 0 {
		return 0, nil
	}
	n, err := insertCampaignTransmissions(tx, c, p, found, env)
	c.PreparedThrough = found[len(found)-1].ID
	return n, err
}

// prepareLate prepares the group's contacts that have no transmission of the campaign yet: linked after
// the cursor had passed their ids.
func prepareLate(tx *gorm.DB, c *Campaign, p *Program, env TickEnv) (int, error) {
	var found []Contact
	if err := tx.Raw(`SELECT contact_links.contact_id, contacts.phone FROM contact_links JOIN contacts ON contacts.contact_id = contact_links.contact_id
		WHERE contact_links.group_id = ? AND `+visibleSQL+` AND NOT EXISTS (SELECT 1 FROM transmissions t
		WHERE t.campaign_id = ? AND t.contact_id = contact_links.contact_id)
		ORDER BY contact_links.contact_id LIMIT ?`, deref(c.GroupID), c.ID, PrepareBatch).Scan(&found).Error; err != nil {
		return 0, err
	}
	if len(found) == 0 {
		return 0, nil
	}
	return insertCampaignTransmissions(tx, c, p, found, env)
}

// insertCampaignTransmissions makes the pending transmissions of contacts (ID and Phone read), each
// with its contact's time zone, and adds new zones to the campaign's.
func insertCampaignTransmissions(tx *gorm.DB, c *Campaign, p *Program, contacts []Contact, env TickEnv) (int, error) {
	service, direction := ProgramService(p.Type)
	ts := env.Now.Unix()
	zones := map[string]bool{}
	for z := range strings.SplitSeq(c.Zones, ",") {
		if z != "" {
			zones[z] = true
		}
	}
	ids, contactZones := make([]int64, len(contacts)), make([]string, len(contacts))
	for i, ct := range contacts {
		zone := callhours.Zone(ct.Phone, env.Region, env.Zone)
		if !zones[zone] {
			zones[zone] = true
			c.Zones = strings.TrimPrefix(c.Zones+","+zone, ",")
		}
		ids[i], contactZones[i] = ct.ID, zone
	}
	var added int64
	if models.IsPostgres(tx) {
		// One statement whose varying columns arrive as arrays (unnest): the same rows as a VALUES list
		// bound 17,000 parameters a thousand rows, a sixth of the campaign bench's client CPU.
		res, err := tx.Statement.ConnPool.ExecContext(tx.Statement.Context, `INSERT INTO transmissions
			(title, service_flag, program_id, origin, direction, status, try_allowed, account_id, campaign_id, user_id,
			created_at, updated_at, contact_id, time_zone)
			SELECT $1, $2, $3, 'campaign', $4, $5, $6, $7, $8, $9, $10, $10, x.c, x.z
			FROM unnest($11::bigint[], $12::text[]) AS x(c, z) ON CONFLICT DO NOTHING`,
			p.Name, service, p.ID, direction, StatusPending, c.TryAllowed, c.AccountID, c.ID, c.UserID, ts, ids, contactZones)
		if err != nil {
			return 0, err
		}
		if added, err = res.RowsAffected(); err != nil {
			return 0, err
		}
	} else {
		rows := make([]Transmission, len(contacts))
		for i := range contacts {
			rows[i] = Transmission{Title: p.Name, ServiceFlag: service, ProgramID: p.ID, Origin: "campaign", Direction: direction,
				Status: StatusPending, TryAllowed: c.TryAllowed, ContactID: ids[i], AccountID: c.AccountID, CampaignID: &c.ID,
				TimeZone: contactZones[i], UserID: c.UserID, CreatedAt: ts, UpdatedAt: ts}
		}
		res := tx.Table(transmissions.name).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(&rows, 1000)
		if res.Error != nil {
			return 0, res.Error
		}
		added = res.RowsAffected
	}
	c.ContactTotal += added
	return int(added), nil
}

// releaseCampaign starts the attempts of up to limit pending transmissions of the campaign, oldest
// first (with a calling window, of the open zones only): each becomes processing with one more try and gets a queued spool, whose delivery job enqueue
// adds, all in the tick's transaction.
func releaseCampaign(tx *gorm.DB, c *Campaign, limit int, now time.Time, enqueue Enqueue, windowed bool, open []string) (int, error) {
	pick, args := "SELECT transmission_id FROM transmissions WHERE campaign_id = ? AND status = ?", []any{c.ID, StatusPending}
	if windowed {
		pick, args = pick+" AND time_zone IN ?", append(args, open)
	}
	pick, args = pick+" ORDER BY transmission_id LIMIT ?", append(args, limit)
	if models.IsPostgres(tx) {
		pick += " FOR UPDATE SKIP LOCKED"
	}
	ts := now.Unix()
	var started []Transmission
	if err := tx.Raw(`UPDATE transmissions SET status = ?, try_done = try_done + 1, last_run = ?, updated_at = ?
		WHERE transmission_id IN (`+pick+`) RETURNING transmission_id, service_flag, account_id, user_id`,
		append([]any{StatusProcessing, ts, ts}, args...)...).Scan(&started).Error; err != nil {
		return 0, err
	}
	if len(started) == 0 {
		return 0, nil
	}
	ss, err := queueSpools(tx, started, ts, enqueue)
	return len(ss), err
}

func hasPending(tx *gorm.DB, campaignID int64) (bool, error) {
	var ids []int64
	err := tx.Table(transmissions.name).Where("campaign_id = ? AND status = ?", campaignID, StatusPending).Limit(1).
		Pluck("transmission_id", &ids).Error
	return len(ids) > 0, err
}

// anyOpen reports whether a transmission of the campaign has not ended yet: pending, being attempted, or
// waiting for a retry. The partial index of those (migration step 33) answers it; its condition is
// written out as the index's, which is how Postgres and SQLite know the index holds every row asked for.
func anyOpen(tx *gorm.DB, campaignID int64) (bool, error) {
	var ids []int64
	err := tx.Raw(`SELECT transmission_id FROM transmissions WHERE campaign_id = ? AND campaign_id IS NOT NULL
		AND status IN ('pending', 'processing', 'pending_retry') LIMIT 1`, campaignID).Scan(&ids).Error
	return len(ids) > 0, err
}

// openZones answers which of a campaign's zones are in its calling window at now, and when the first of
// the closed ones opens (zero: none within a week).
func openZones(w callhours.Window, zones string, now time.Time) ([]string, time.Time) {
	var open []string
	var next time.Time
	for z := range strings.SplitSeq(zones, ",") {
		if z == "" {
			continue
		}
		loc, err := time.LoadLocation(z)
		if err != nil {
			loc = time.UTC
		}
		if w.Open(now.In(loc)) {
			open = append(open, z)
			continue
		}
		if at, ok := w.NextOpen(now, loc); ok && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	return open, next
}
