/**
 * Checks a message, view or options list against Slack's Block Kit limits
 * (https://api.slack.com/reference/block-kit) and returns what breaks them, each with its path.
 * The numbers are written here from Slack's reference, not imported from src/, so a wrong limit
 * in the code is caught rather than copied. An unknown block or element type is a problem too:
 * the checker must not pass what it cannot read.
 */
export const LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  messageText: 40_000,
  textObject: 3000,
  sectionText: 3000,
  sectionFields: 10,
  sectionField: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  url: 3000,
  optionText: 75,
  optionDescription: 75,
  optionValue: 150,
  selectOptions: 100,
  placeholder: 150,
  inputLabel: 2000,
  inputHint: 2000,
  plainTextInputMaxLength: 3000,
  modalTitle: 24,
  modalButton: 24,
  privateMetadata: 3000,
  id: 255,
} as const;

type Json = Record<string, unknown>;

class Walk {
  readonly problems: string[] = [];

  over(path: string, value: string | undefined, max: number): void {
    if (value !== undefined && value.length > max) {
      this.problems.push(`${path}: ${value.length} characters, limit ${max}`);
    }
  }

  count(path: string, items: unknown[] | undefined, max: number): void {
    if (items && items.length > max) this.problems.push(`${path}: ${items.length} items, limit ${max}`);
  }

  text(path: string, obj: unknown, max: number, plainOnly = false): void {
    const t = obj as Json | undefined;
    if (!t) return;
    if (t.type !== 'plain_text' && t.type !== 'mrkdwn') this.problems.push(`${path}: not a text object`);
    else if (plainOnly && t.type !== 'plain_text') this.problems.push(`${path}: must be plain_text`);
    if (typeof t.text !== 'string' || t.text.length === 0) this.problems.push(`${path}: empty text`);
    else this.over(path, t.text, Math.min(max, LIMITS.textObject));
  }

  option(path: string, obj: unknown): void {
    const o = obj as Json;
    this.text(`${path}.text`, o.text, LIMITS.optionText);
    this.text(`${path}.description`, o.description, LIMITS.optionDescription, true);
    this.over(`${path}.value`, o.value as string, LIMITS.optionValue);
  }

  element(path: string, obj: unknown): void {
    const e = obj as Json;
    this.over(`${path}.action_id`, e.action_id as string, LIMITS.id);
    this.text(`${path}.placeholder`, e.placeholder, LIMITS.placeholder, true);
    switch (e.type) {
      case 'button':
        this.text(`${path}.text`, e.text, LIMITS.buttonText, true);
        this.over(`${path}.value`, e.value as string, LIMITS.buttonValue);
        this.over(`${path}.url`, e.url as string, LIMITS.url);
        return;
      case 'static_select': {
        const options = (e.options as unknown[] | undefined) ?? [];
        this.count(`${path}.options`, options, LIMITS.selectOptions);
        options.forEach((o, i) => this.option(`${path}.options[${i}]`, o));
        if (e.initial_option) this.option(`${path}.initial_option`, e.initial_option);
        return;
      }
      case 'external_select':
        return;
      case 'multi_external_select':
        // Slack refuses a multi-select that takes fewer than one item.
        if (typeof e.max_selected_items === 'number' && e.max_selected_items < 1) {
          this.problems.push(`${path}.max_selected_items: ${e.max_selected_items}, at least 1`);
        }
        return;
      case 'plain_text_input':
        if (typeof e.max_length === 'number' && e.max_length > LIMITS.plainTextInputMaxLength) {
          this.problems.push(`${path}.max_length: ${e.max_length}, limit ${LIMITS.plainTextInputMaxLength}`);
        }
        return;
      default:
        this.problems.push(`${path}: element type ${String(e.type)} is not checked`);
    }
  }

  block(path: string, obj: unknown, blockIds: Set<string>): void {
    const b = obj as Json;
    if (typeof b.block_id === 'string') {
      this.over(`${path}.block_id`, b.block_id, LIMITS.id);
      if (blockIds.has(b.block_id)) this.problems.push(`${path}.block_id: ${b.block_id} is used twice`);
      blockIds.add(b.block_id);
    }
    switch (b.type) {
      case 'section': {
        if (!b.text && !b.fields) this.problems.push(`${path}: a section needs text or fields`);
        this.text(`${path}.text`, b.text, LIMITS.sectionText);
        const fields = b.fields as unknown[] | undefined;
        this.count(`${path}.fields`, fields, LIMITS.sectionFields);
        fields?.forEach((f, i) => this.text(`${path}.fields[${i}]`, f, LIMITS.sectionField));
        if (b.accessory) this.element(`${path}.accessory`, b.accessory);
        return;
      }
      case 'header':
        this.text(`${path}.text`, b.text, LIMITS.headerText, true);
        return;
      case 'context': {
        const elements = (b.elements as unknown[] | undefined) ?? [];
        if (!elements.length) this.problems.push(`${path}: a context needs elements`);
        this.count(`${path}.elements`, elements, LIMITS.contextElements);
        elements.forEach((e, i) => this.text(`${path}.elements[${i}]`, e, LIMITS.textObject));
        return;
      }
      case 'actions': {
        const elements = (b.elements as Json[] | undefined) ?? [];
        if (!elements.length) this.problems.push(`${path}: an actions block needs elements`);
        this.count(`${path}.elements`, elements, LIMITS.actionsElements);
        elements.forEach((e, i) => this.element(`${path}.elements[${i}]`, e));
        const ids = elements.map((e) => e.action_id).filter(Boolean);
        if (new Set(ids).size !== ids.length)
          this.problems.push(`${path}: action_id used twice in one block`);
        return;
      }
      case 'input':
        this.text(`${path}.label`, b.label, LIMITS.inputLabel, true);
        this.text(`${path}.hint`, b.hint, LIMITS.inputHint, true);
        this.element(`${path}.element`, b.element);
        return;
      case 'divider':
        return;
      default:
        this.problems.push(`${path}: block type ${String(b.type)} is not checked`);
    }
  }

  blocks(blocks: unknown[] | undefined, max: number): void {
    this.count('blocks', blocks, max);
    const ids = new Set<string>();
    (blocks ?? []).forEach((b, i) => this.block(`blocks[${i}]`, b, ids));
  }
}

export interface MessageLike {
  text?: string;
  blocks?: unknown[];
}

/** A chat.postMessage / chat.update / response_url payload. */
export function messageProblems(message: MessageLike): string[] {
  const walk = new Walk();
  if (!message.text?.trim()) walk.problems.push('text: the fallback text is missing');
  walk.over('text', message.text, LIMITS.messageText);
  walk.blocks(message.blocks, LIMITS.messageBlocks);
  return walk.problems;
}

/** A modal (views.open, views.update) or the App Home (views.publish). */
export function viewProblems(view: Json): string[] {
  const walk = new Walk();
  walk.blocks(view.blocks as unknown[], LIMITS.viewBlocks);
  if (view.type === 'modal') {
    if (!view.title) walk.problems.push('title: a modal needs a title');
    walk.text('title', view.title, LIMITS.modalTitle, true);
    walk.text('submit', view.submit, LIMITS.modalButton, true);
    walk.text('close', view.close, LIMITS.modalButton, true);
    walk.over('callback_id', view.callback_id as string, LIMITS.id);
  } else if (view.type !== 'home') {
    walk.problems.push(`type: view type ${String(view.type)} is not checked`);
  }
  walk.over('private_metadata', view.private_metadata as string, LIMITS.privateMetadata);
  return walk.problems;
}

/** The options an external select's load URL answers with. */
export function optionsProblems(options: unknown[]): string[] {
  const walk = new Walk();
  walk.count('options', options, LIMITS.selectOptions);
  options.forEach((o, i) => walk.option(`options[${i}]`, o));
  return walk.problems;
}
