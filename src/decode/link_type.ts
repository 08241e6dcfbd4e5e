/**
 * Link-layer header types understood by the decoder.
 *
 * @module
 */

// One table of link types for the whole package: see src/dlt.ts.
export { LinkType, type LinkTypeValue } from "../dlt.ts";
