import { setHandler } from '@temporalio/workflow';
import { decisionSignal, SIGNAL_INTAKE_BUDGET } from '../common';
import type { AttemptState } from './attemptState';

/**
 * Takes `decision` signals a slice per workflow task. Signals reach history before any code can refuse them, and
 * the SDK spends about a millisecond on each one it hands to a handler, so a flood delivered in one task would
 * outlast the SDK's workflow-task deadline and fail every retry. Instead the handler unregisters itself once this
 * task's budget is spent (one unit per signal, more per signature check): the SDK then only buffers further signals,
 * at no cost, and the workflow reopens the intake in its next task (`open()`), which dispatches the next slice.
 */
export class SignalIntake {
  #spent = 0;
  #paused = false;

  constructor(private readonly state: AttemptState) {}

  /** True when this task's budget is spent and signals wait in the SDK's buffer for the next task. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Registers the handler with a fresh budget; the SDK dispatches buffered signals to it at once, up to the budget. */
  open(): void {
    this.#spent = 0;
    this.#paused = false;
    setHandler(decisionSignal, (payload) => this.#take(payload));
  }

  #take(payload: unknown): void {
    const checksBefore = this.state.signatureChecks;
    this.state.receiveDecision(payload, 'signal');
    this.#spent += 1 + (this.state.signatureChecks - checksBefore) * SIGNAL_INTAKE_BUDGET.perSignatureCheck;
    if (this.#spent >= SIGNAL_INTAKE_BUDGET.perTask) {
      this.#paused = true;
      setHandler(decisionSignal, undefined);
    }
  }
}
