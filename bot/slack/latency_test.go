package slack_test

import (
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"

	slackbot "github.com/briefing-bot/briefing/bot/slack"
	"github.com/briefing-bot/briefing/internal/fakeslack"
	"github.com/briefing-bot/briefing/metrics"
)

// TestAckLatency sends 50 /briefing commands, one at a time or all at once,
// and logs the ack latency the fake Slack measured (envelope written to ack
// read) while the briefings are built and posted behind the acks.
func TestAckLatency(t *testing.T) {
	const commands = 50
	for name, burst := range map[string]bool{"sequential": false, "burst": true} {
		t.Run(name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			h := newHarness(t, func(o *slackbot.Options) { o.Metrics = metrics.New(reg) })
			latencies := make([]time.Duration, 0, commands)
			var pending []string
			for range commands {
				pending = append(pending, h.fake.SendSlash(t, slack.SlashCommand{ChannelID: "C1", UserID: "U1", Text: "cloud"}))
				if !burst {
					latencies = append(latencies, h.fake.WaitAck(t, pending[0]).Latency)
					pending = pending[1:]
				}
			}
			for _, env := range pending {
				latencies = append(latencies, h.fake.WaitAck(t, env).Latency)
			}
			h.fake.WaitMessages(t, commands, func(m fakeslack.Message) bool { return m.Method == "chat.postMessage" })
			slices.Sort(latencies)
			t.Logf("ack latency over %d slash commands: p50 %v, p99 %v", commands, latencies[commands/2], latencies[commands*99/100])
			if latencies[commands-1] > 3*time.Second {
				t.Errorf("an ack took %v; Slack allows 3s", latencies[commands-1])
			}

			families, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range families {
				if f.GetName() == "briefing_envelope_ack_seconds" {
					if n := f.GetMetric()[0].GetHistogram().GetSampleCount(); n != commands {
						t.Errorf("ack histogram has %d samples, want %d", n, commands)
					}
					return
				}
			}
			t.Error("no ack latency metric")
		})
	}
}
