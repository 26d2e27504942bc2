// What the normalizer rejects and why: the invalid-output entries, their codes, and the recorder
// every stage of a normalize() call reports to.

export type InvalidCode =
  | 'empty' | 'too_large' | 'too_deep' | 'too_many' | 'malformed_json' | 'unsupported_payload' | 'bad_item'
  | 'no_readings' | 'no_sensor_id' | 'bad_sensor_id' | 'no_value' | 'not_a_number' | 'not_finite'
  | 'bad_timestamp' | 'clock_skew' | 'unit_mismatch' | 'unknown_unit' | 'implausible' | 'out_of_range'
  | 'forbidden_key' | 'config_error' | 'malformed_payload' | 'no_birth';

export interface InvalidEntry {
  code: InvalidCode;
  message: string;
  /** position in an array payload */
  index?: number;
  sensorId?: string;
  measurement?: string;
}

/** Entries kept per message; further ones are dropped (the first ones explain the message). */
export const MAX_INVALID_ENTRIES = 1000;

/** Returned by a stage that could not produce a value and has recorded why. */
export const NOT_PARSED = Symbol('not parsed');

/** Collects the invalid entries of the normalize() call in progress. */
export class InvalidRecorder {
  protected errs: InvalidEntry[] | null = null;
  /** position in an array payload, -1 outside arrays */
  protected index = -1;

  protected fail(code: InvalidCode, message: string, sensorId?: string, measurement?: string): void {
    const e: InvalidEntry = { code, message };
    if (this.index >= 0) e.index = this.index;
    if (sensorId !== undefined) e.sensorId = sensorId;
    if (measurement !== undefined) e.measurement = measurement;
    if (this.errs === null) this.errs = [e];
    else if (this.errs.length < MAX_INVALID_ENTRIES) this.errs.push(e);
  }
}
