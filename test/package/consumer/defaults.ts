/**
 * The app with the library's defaults, checked by cdk-nag's AwsSolutions and Serverless packs.
 */
import { App } from 'aws-cdk-lib';
import { addPacks } from './nag';
import { defineApp } from './site';

const app = new App();
defineApp(app);
addPacks(app, ['AwsSolutions', 'Serverless']);
app.synth();
