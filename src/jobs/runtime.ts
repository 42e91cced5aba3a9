/** What every worker, scheduler and queue the worker role starts gives back: a way to stop it. */
export interface Closable {
  close(): Promise<void>;
}
