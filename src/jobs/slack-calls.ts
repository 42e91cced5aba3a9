// hygiene-slack-directory.ts still imports isRateLimited from here; r11/hygiene moves it out of
// jobs/, and then this file goes. The helper itself lives with the Slack client factory.
export { isRateLimited } from '../slack/slack-client.js';
