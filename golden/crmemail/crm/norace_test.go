//go:build !race

package crm_test

const raceEnabled = false
