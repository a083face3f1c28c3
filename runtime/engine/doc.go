// Package engine runs generated syncs: it polls sources with durable
// cursors, accepts webhooks as hints, maps records through generated
// functions, writes them idempotently to targets, and keeps all of its state
// in a Store.
//
// Generated code describes each sync with a Sync value (see sync.go, the
// contract with connectorgen's emit stage). The engine must not use
// reflection on records and must not know about mapping files. Like every
// runtime core package it imports only the standard library,
// golang.org/x/oauth2, golang.org/x/time and other runtime packages.
package engine
