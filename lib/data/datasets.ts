// gf.datasets: the data sets gradforge can load.
export { mnistDigits } from './mnist';
export { mnist, fashionMnist, FASHION_MNIST_CLASSES } from './image-datasets';
export type { ImageDataset, ImageSplit, ImageDatasetOptions } from './image-datasets';
export { imdb, DatasetNotInstalledError } from './imdb';
export type { ImdbOptions, ImdbDataset } from './imdb';
export { seattleWeather } from './weather';
export type { SeattleWeather, SeattleWeatherKind } from './weather';
