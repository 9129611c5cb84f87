// Package status writes what Causeway has to say about its input objects
// back into the management cluster: the conditions (Accepted, Conflicted,
// ResolvedRefs) of Causeway's own kinds with the legacy state and message
// (VirtualDestination also its selected services and their clusters,
// policies the destinations they attach to; own.go), HTTPRoute
// status.parents (Accepted, ResolvedRefs), Gateway status (Accepted,
// Programmed, listeners) and GatewayClass status (Accepted,
// supportedFeatures).
//
// Every replica runs a Writer, but only the one holding the Lease (client-go
// leader election) writes, so replicas never fight over status; the others
// keep their caches warm to take over quickly. The leader recomputes
// translator.Statuses on every model change and every change of the objects
// themselves (debounced), and writes only what differs from the live object,
// keeping lastTransitionTime where a condition's status did not change. The
// statuses come from the translator's own rules, so they describe exactly
// the config the proxies get. Conditions carry the live object's generation
// as observedGeneration, and a Gateway API object's status is written only
// while the model holds that same object (UID) at that same generation:
// after a spec change, or a delete and create under the same name, the
// writer waits for the model rather than report the old spec under the new
// generation.
//
// Objects of other controllers are left alone: only the GatewayClasses
// whose controllerName is Causeway's (the model's ControllerName) and their
// Gateways get status, and HTTPRoute status.parents entries with another
// controllerName are kept as they are; a route attached only to other
// controllers' Gateways is not written at all.
package status
