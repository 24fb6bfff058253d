package store_test

import (
	"testing"

	"github.com/briefing-bot/briefing"
)

func TestCache(t *testing.T) {
	db := MustOpen(t)
	if v, found, err := db.Get("summary:s1"); err != nil || found || v != nil {
		t.Fatalf("missing key: %q, %v, %v", v, found, err)
	}
	tests := map[string]struct{ puts, want string }{
		"stored":      {puts: "first", want: "first"},
		"overwritten": {puts: "second", want: "second"},
		"empty value": {puts: "", want: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			mustDo(t, db.Put("summary:s1", []byte(tc.puts)))
			v, found, err := db.Get("summary:s1")
			if err != nil || !found || string(v) != tc.want {
				t.Errorf("Get = %q, %v, %v; want %q", v, found, err, tc.want)
			}
		})
	}
	wantCode(t, db.Put("", []byte("x")), briefing.EINVALID)
}

func TestCacheValueIsACopy(t *testing.T) {
	db := MustOpen(t)
	value := []byte("summary")
	mustDo(t, db.Put("k", value))
	value[0] = 'X'
	got, _, _ := db.Get("k")
	got[1] = 'Y'
	again, _, err := db.Get("k")
	if err != nil || string(again) != "summary" {
		t.Errorf("stored value changed through a caller's slice: %q, %v", again, err)
	}
}
