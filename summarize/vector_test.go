package summarize_test

import (
	"math"
	"testing"

	"github.com/briefing-bot/briefing/summarize"
)

func TestTFIDF(t *testing.T) {
	docs := [][]string{
		summarize.Terms("Azure outage hits Europe"),
		summarize.Terms("AWS outage hits Virginia"),
		summarize.Terms("Google Cloud outage hits Asia"),
		summarize.Terms("Kubernetes release adds pod resizing"),
	}
	m := summarize.NewTFIDF(docs)
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	tests := map[string]struct {
		a, b string
		want func(float64) bool
	}{
		"same text":          {"Azure outage hits Europe", "Europe hits outage Azure", func(s float64) bool { return near(s, 1) }},
		"nothing shared":     {"Azure outage", "Kubernetes release", func(s float64) bool { return near(s, 0) }},
		"unknown words only": {"bananas", "Azure outage", func(s float64) bool { return near(s, 0) }},
		// Sharing the rare "europe" beats sharing the common "outage hits".
		"rare terms weigh more": {"Azure Europe", "Europe", func(s float64) bool {
			return s > m.Similarity(summarize.Terms("Azure outage hits"), summarize.Terms("outage hits"))
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if s := m.Similarity(summarize.Terms(tc.a), summarize.Terms(tc.b)); !tc.want(s) {
				t.Errorf("Similarity(%q, %q) = %v", tc.a, tc.b, s)
			}
		})
	}
}

func TestCentroid(t *testing.T) {
	texts := []string{"Azure outage hits Europe", "Azure outage in Europe region", "Azure status page late", "Kubernetes release"}
	var docs [][]string
	for _, s := range texts {
		docs = append(docs, summarize.Terms(s))
	}
	m := summarize.NewTFIDF(docs)
	var vs []summarize.Vector
	for _, d := range docs[:3] {
		vs = append(vs, m.Vector(d))
	}
	c := summarize.Centroid(vs)
	if c.IsZero() || !summarize.Centroid(nil).IsZero() {
		t.Fatalf("centroid of three texts zero: %v, of none not zero: %v", c.IsZero(), !summarize.Centroid(nil).IsZero())
	}
	central, outlier := summarize.Cosine(vs[0], c), summarize.Cosine(m.Vector(docs[3]), c)
	if central <= summarize.Cosine(vs[2], c) || outlier != 0 {
		t.Errorf("cosine to centroid: central %v, off-topic %v, side remark %v", central, outlier, summarize.Cosine(vs[2], c))
	}
	if self := summarize.Cosine(c, c); math.Abs(self-1) > 1e-9 {
		t.Errorf("centroid not normalised: |c|² = %v", self)
	}
}
