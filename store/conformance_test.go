package store_test

import (
	"path/filepath"
	"testing"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/store"
	"github.com/briefing-bot/briefing/store/storetest"
)

// openTemp opens a bbolt store in a fresh temporary folder; MustOpenWith
// checks the file's consistency when tb ends.
func openTemp(tb testing.TB, opts storetest.Options) briefing.Store {
	return MustOpenWith(tb, filepath.Join(tb.TempDir(), "briefing.db"), store.Options{Retention: opts.Retention, Now: opts.Now})
}

func TestConformance(t *testing.T) { storetest.Run(t, openTemp) }

func BenchmarkStore(b *testing.B) { storetest.Bench(b, openTemp) }
