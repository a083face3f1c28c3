package service

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// engineMetrics is the engine's Observer: record outcomes, run results,
// freshness, queue depth and dead letters, written as Prometheus text after
// the transport metrics of observe.Memory.
type engineMetrics struct {
	mu       sync.Mutex
	records  map[[2]string]int64 // sync, outcome
	runs     map[[2]string]int64 // sync, ok|failed
	fresh    map[string]float64  // seconds since last success
	lastOK   map[string]float64  // unix seconds
	failures map[string]int
	paused   map[string]bool
	queue    map[string]int
	dead     map[string]int
}

func newEngineMetrics() *engineMetrics {
	return &engineMetrics{records: map[[2]string]int64{}, runs: map[[2]string]int64{}, fresh: map[string]float64{},
		lastOK: map[string]float64{}, failures: map[string]int{}, paused: map[string]bool{}, queue: map[string]int{}, dead: map[string]int{}}
}

func (m *engineMetrics) ObserveRecord(e engine.RecordEvent) {
	m.mu.Lock()
	m.records[[2]string{e.Sync, string(e.Outcome)}]++
	m.mu.Unlock()
}

func (m *engineMetrics) ObserveRun(e engine.RunEvent) {
	res := "ok"
	if !e.OK {
		res = "failed"
	}
	m.mu.Lock()
	m.runs[[2]string{e.Sync, res}]++
	m.fresh[e.Sync] = e.Freshness.Seconds()
	if !e.LastSuccess.IsZero() {
		m.lastOK[e.Sync] = float64(e.LastSuccess.UnixNano()) / 1e9
	}
	m.failures[e.Sync] = e.ConsecutiveFailures
	m.paused[e.Sync] = e.Paused
	m.mu.Unlock()
}

func (m *engineMetrics) ObserveQueue(e engine.QueueEvent) {
	m.mu.Lock()
	m.queue[e.Sync] = e.QueueDepth
	m.dead[e.Sync] = e.DeadLetters
	m.mu.Unlock()
}

func keys2(m map[[2]string]int64) [][2]string {
	out := make([][2]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i][0] != out[j][0] {
			return out[i][0] < out[j][0]
		}
		return out[i][1] < out[j][1]
	})
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func esc(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// write renders the engine families in Prometheus text format.
func (m *engineMetrics) write(w io.Writer, envs []Selected) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	fam := func(name, typ, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	fam("connector_records_total", "counter", "Source records processed, by sync and outcome.")
	for _, k := range keys2(m.records) {
		fmt.Fprintf(&b, "connector_records_total{sync=\"%s\",outcome=\"%s\"} %d\n", esc(k[0]), esc(k[1]), m.records[k])
	}
	fam("connector_runs_total", "counter", "Runs finished, by sync and result.")
	for _, k := range keys2(m.runs) {
		fmt.Fprintf(&b, "connector_runs_total{sync=\"%s\",result=\"%s\"} %d\n", esc(k[0]), esc(k[1]), m.runs[k])
	}
	fam("connector_last_success_timestamp_seconds", "gauge", "Unix time of the sync's last successful run.")
	for _, s := range sortedKeys(m.lastOK) {
		fmt.Fprintf(&b, "connector_last_success_timestamp_seconds{sync=\"%s\"} %g\n", esc(s), m.lastOK[s])
	}
	fam("connector_freshness_seconds", "gauge", "Seconds since the sync's last successful run, at its last run.")
	for _, s := range sortedKeys(m.fresh) {
		fmt.Fprintf(&b, "connector_freshness_seconds{sync=\"%s\"} %g\n", esc(s), m.fresh[s])
	}
	fam("connector_consecutive_failures", "gauge", "Failed runs in a row.")
	for _, s := range sortedKeys(m.failures) {
		fmt.Fprintf(&b, "connector_consecutive_failures{sync=\"%s\"} %d\n", esc(s), m.failures[s])
	}
	fam("connector_queue_depth", "gauge", "Webhook events waiting.")
	for _, s := range sortedKeys(m.queue) {
		fmt.Fprintf(&b, "connector_queue_depth{sync=\"%s\"} %d\n", esc(s), m.queue[s])
	}
	fam("connector_dead_letters", "gauge", "Dead letters waiting for replay or discard.")
	for _, s := range sortedKeys(m.dead) {
		fmt.Fprintf(&b, "connector_dead_letters{sync=\"%s\"} %d\n", esc(s), m.dead[s])
	}
	fam("connector_environment_info", "gauge", "The environment each system runs against (1).")
	for _, e := range envs {
		fmt.Fprintf(&b, "connector_environment_info{system=\"%s\",environment=\"%s\",production=\"%t\"} 1\n", esc(e.System), esc(e.Environment), e.Production)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
