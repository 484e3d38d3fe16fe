package platform_test

import (
	"fmt"
	"net/http"
	"testing"

	"switchboard/apitest"
	"switchboard/app"
)

type added struct{ Added, Duplicates int64 }

type dncNumber struct {
	Number    string `json:"number"`
	CreatedAt string `json:"created_at"`
}

func TestDncNumbers(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		id := e.createList(t, "opt-outs", false)
		path := fmt.Sprintf("/dnc-lists/%d/numbers", id)
		r := e.call(t, "POST", path, map[string]any{"numbers": []string{"03001234567", "+92 300 1234567", "(0300) 123-4568", "+442079460018"}})
		var a added
		r.JSON(t, &a)
		if r.Status != 200 || a.Added != 3 || a.Duplicates != 1 {
			t.Fatalf("add: %d %s", r.Status, r.Body)
		}
		r = e.call(t, "POST", path, map[string]any{"numbers": []string{"+923001234568", "03001234569"}})
		r.JSON(t, &a)
		if a.Added != 1 || a.Duplicates != 1 {
			t.Fatalf("add again: %s", r.Body)
		}
		// One bad number: 400 naming it, and none of the others added.
		expectProblem(t, e.call(t, "POST", path, map[string]any{"numbers": []string{"03001234570", "12ab"}}), 400, `number "12ab" is not a valid phone number`)

		var nums []dncNumber
		r = e.call(t, "GET", path, nil)
		r.JSON(t, &nums)
		want := "[+442079460018 +923001234567 +923001234568 +923001234569]" // E.164, in byte order
		if got := numbersOf(nums); got != want || r.Header.Get("Link") != "" || nums[0].CreatedAt == "" {
			t.Fatalf("numbers %s (Link %q), want %s", got, r.Header.Get("Link"), want)
		}
		r = e.call(t, "GET", path+"?limit=3", nil)
		r.JSON(t, &nums)
		link := fmt.Sprintf(`</platform%s?after=%%2B923001234568&limit=3>; rel="next"`, path)
		if got := numbersOf(nums); got != "[+442079460018 +923001234567 +923001234568]" || r.Header.Get("Link") != link {
			t.Fatalf("first page %s, Link %q", got, r.Header.Get("Link"))
		}
		e.call(t, "GET", path+"?limit=3&after=%2B923001234568", nil).JSON(t, &nums)
		if got := numbersOf(nums); got != "[+923001234569]" {
			t.Fatalf("second page %s", got)
		}

		// A number is removed in any form of it.
		for _, n := range []string{"03001234569", "%2B923001234568", "+923001234567"} {
			if r := e.call(t, "DELETE", path+"/"+n, nil); r.Status != 204 {
				t.Fatalf("delete %s: %d %s", n, r.Status, r.Body)
			}
		}
		e.call(t, "GET", path, nil).JSON(t, &nums)
		if got := numbersOf(nums); got != "[+442079460018]" {
			t.Fatalf("after deletes: %s", got)
		}

		many := make([]string, 1001)
		for i := range many {
			many[i] = fmt.Sprintf("+9230012%05d", i)
		}
		e.expectErrors(t, []errorCase{
			{"delete a number not on the list", "DELETE", path + "/03001234567", nil, 404, "number +923001234567 is not on do-not-call list"},
			{"delete an invalid number", "DELETE", path + "/12ab", nil, 400, `"12ab"`},
			{"delete from a missing list", "DELETE", "/dnc-lists/999/numbers/03001234567", nil, 404, "do-not-call list 999 not found"},
			{"add to a missing list", "POST", "/dnc-lists/999/numbers", map[string]any{"numbers": []string{"03001234567"}}, 404, "do-not-call list 999 not found"},
			{"list a missing list", "GET", "/dnc-lists/999/numbers", nil, 404, "do-not-call list 999 not found"},
			{"no numbers", "POST", path, map[string]any{"numbers": []string{}}, 400, "numbers"},
			{"more than 1000", "POST", path, map[string]any{"numbers": many}, 400, "numbers"},
			{"number not a string", "POST", path, map[string]any{"numbers": []any{3001234567}}, 400, "numbers"},
			{"empty number", "POST", path, map[string]any{"numbers": []string{""}}, 400, "numbers"},
			{"number of a country without one", "POST", path, map[string]any{"numbers": []string{"+999123"}}, 400, `"+999123"`},
			{"limit too large", "GET", path + "?limit=1001", nil, 400, "limit"},
		})
	})
}

// TestNumbersWithoutRegion: with no default region only E.164 numbers are taken, and the error says why.
func TestNumbersWithoutRegion(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := &env{Env: apitest.NewWithOptions(t, kind, app.Options{})}
		e.key = e.newKey(t, "admin", "admin")
		id := e.createList(t, "l", true)
		r := e.call(t, "POST", fmt.Sprintf("/dnc-lists/%d/numbers", id), map[string]any{"numbers": []string{"+923001234567"}})
		if r.Status != http.StatusOK {
			t.Fatalf("E.164: %d %s", r.Status, r.Body)
		}
		expectProblem(t, e.call(t, "POST", fmt.Sprintf("/dnc-lists/%d/numbers", id), map[string]any{"numbers": []string{"03001234567"}}),
			400, "no default region is set (PHONE_DEFAULT_REGION)")
		expectProblem(t, e.call(t, "GET", "/dnc/lookup?number=03001234567", nil), 400, "no default region")
	})
}

func numbersOf(ns []dncNumber) string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Number
	}
	return fmt.Sprint(out)
}
